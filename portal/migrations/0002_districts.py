"""Districts of Luoyang (POLICY.md). Minimum-wage tiers follow the 2015 Henan list:
urban districts, 偃师, 新安 and 栾川 are tier one; staff can change a tier in the admin."""

from django.db import migrations

DISTRICTS = [
    # code, name, English name, kind, tier
    ("laocheng", "老城区", "Laocheng District", "district", 1),
    ("xigong", "西工区", "Xigong District", "district", 1),
    ("chanhe", "瀍河回族区", "Chanhe Hui District", "district", 1),
    ("jianxi", "涧西区", "Jianxi District", "district", 1),
    ("luolong", "洛龙区", "Luolong District", "district", 1),
    ("yanshi", "偃师区", "Yanshi District", "district", 1),
    ("mengjin", "孟津区", "Mengjin District", "district", 2),
    ("xin_an", "新安县", "Xin'an County", "county", 1),
    ("yiyang", "宜阳县", "Yiyang County", "county", 2),
    ("luoning", "洛宁县", "Luoning County", "county", 2),
    ("yichuan", "伊川县", "Yichuan County", "county", 2),
    ("songxian", "嵩县", "Song County", "county", 2),
    ("luanchuan", "栾川县", "Luanchuan County", "county", 1),
    ("ruyang", "汝阳县", "Ruyang County", "county", 2),
    ("yibin", "伊滨区", "Yibin District", "zone", 1),
    ("gaoxin", "洛阳高新技术产业开发区", "Luoyang High-tech Zone", "zone", 1),
]


def load(apps, schema_editor):
    District = apps.get_model("portal", "District")
    for order, (code, name, name_en, kind, tier) in enumerate(DISTRICTS, start=1):
        District.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "kind": kind, "wage_tier": tier, "sort_order": order}
        )


def unload(apps, schema_editor):
    apps.get_model("portal", "District").objects.filter(code__in=[d[0] for d in DISTRICTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
