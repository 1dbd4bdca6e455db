"""Date formats of the portal (FORMAT_MODULE_PATH): dates read 2026-12-02 and times 14:30 on
every page, in both languages, the same as in the messages, notices and exports, which
store dates in that form; Django's own Chinese format (2026年12月2日) would show a second
form of the same date next to them."""
