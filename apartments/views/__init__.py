"""HTML views: youth stations and housing, one module each (urls.py imports them)."""
