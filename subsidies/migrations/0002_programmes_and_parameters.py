"""The seven programmes of POLICY.md "Subsidies" and their parameters. The seed gives no
amounts where it says "a certain subsidy": the values below are starting settings that city
staff change in the admin (a newer dated row). The minimum wage is Henan's by tier, with the
known history; a claim for a month uses the value in force that month."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

from portal.migration_utils import parameter_rows

PROGRAMMES = [
    # code, zh, en, applicant, period, pays, budget, documents, description zh, description en
    (
        "interview-travel",
        "面试路费补贴",
        "Interview travel subsidy",
        "graduate",
        "interview_travel",
        "once",
        True,
        2000000,
        [],
        "外地高校毕业生来洛参加面试，可申领一次性面试路费补贴。",
        "A one-time subsidy for graduates from outside Luoyang who come for an interview.",
    ),
    (
        "traineeship-living",
        "见习生活补贴",
        "Traineeship living subsidy",
        "employer",
        "traineeship_living",
        "monthly",
        True,
        10000000,
        [],
        "见习基地按月为见习人员申领生活补贴，标准不低于当地最低工资的80%。",
        "Traineeship bases claim monthly for each trainee: at least 80% of the local minimum wage.",
    ),
    (
        "employer-hiring",
        "民营企业吸纳高校毕业生补贴",
        "Employer graduate-hiring subsidy",
        "employer",
        "employer_hiring",
        "per_hire",
        True,
        5000000,
        [],
        "民营企业招用高校毕业生，按人给予补贴。",
        "Private employers receive a subsidy for each graduate they hire.",
    ),
    (
        "university-base",
        "产学研基地补贴",
        "University–enterprise base subsidy",
        "employer",
        "university_base",
        "yearly",
        True,
        2000000,
        ["business_licence"],
        "对新认定的产学研合作基地，根据规模和成效给予10万至20万元补贴。",
        "100,000 to 200,000 CNY for a new university–enterprise base, by its scale and results.",
    ),
    (
        "incubation-rent",
        "孵化场所租金减免",
        "Incubation rent waiver",
        "graduate",
        "incubation_rent",
        "monthly",
        True,
        3000000,
        ["business_licence"],
        "青年大学生在孵化载体创业，减免场地租金，每个企业累计最长3年。",
        "Rent waiver for young graduates' start-ups in an incubator, at most 3 years per business.",
    ),
    (
        "startup-loan",
        "创业担保贷款推荐",
        "Start-up guaranteed loan referral",
        "graduate",
        "startup_loan",
        "once",
        False,
        0,
        [],
        "降低反担保门槛，推荐人才贷、成长贷、银投联贷等产品，由合作银行审批发放。",
        "Lower counter-guarantee threshold; the portal checks eligibility and refers you to the bank.",
    ),
    (
        "rent-subsidy",
        "青年人才租房补贴",
        "Rent subsidy",
        "graduate",
        "rent_subsidy",
        "monthly",
        True,
        3000000,
        [],
        "在洛就业创业的高校毕业生租房，给予适当补贴；享受人才公寓免租期间不重复享受。",
        "An appropriate rent subsidy for graduates working in Luoyang; not while rent-free in a talent apartment.",
    ),
]

PARAMETERS = [
    ("subsidy-interview-amount", 500, "Item 4: one-time interview travel subsidy (CNY); set by staff"),
    ("subsidy-interview-graduation-years", 2, "Interview subsidy: graduated within this many years"),
    ("subsidy-traineeship-factor", Decimal("0.8"), "Item 5: at least 80% of the local minimum wage"),
    ("subsidy-traineeship-max-months", 12, "Traineeship living subsidy: months per trainee"),
    ("subsidy-hiring-amount", 1000, "Item 6: per graduate hired by a private employer (CNY); set by staff"),
    ("subsidy-hiring-graduation-years", 2, "Hiring subsidy: the hired graduate graduated within this many years"),
    ("subsidy-rent-monthly-amount", 300, "Item 11: rent subsidy per month (CNY); 'appropriate subsidy', set by staff"),
    ("subsidy-rent-graduation-years", 3, "Rent subsidy: graduated within this many years"),
    ("subsidy-startup-graduation-years", 5, "Item 8: young graduates' start-ups: graduated within this many years"),
    ("subsidy-incubation-max-months", 36, "Item 8: incubation rent waiver, at most 3 years per business"),
    ("subsidy-base-min", 100000, "Item 7: university–enterprise base subsidy, lower end (CNY)"),
    ("subsidy-base-max", 200000, "Item 7: university–enterprise base subsidy, upper end (CNY)"),
    ("subsidy-second-approval-above", 10000, "Approvals above this amount need a second staff member (CNY)"),
    ("subsidy-notice-days", 5, "Days of public notice (公示) before payment"),
]

# Henan provincial notices: monthly minimum wage by tier (CNY).
MINIMUM_WAGE = [
    (dt.date(2015, 7, 1), (1600, 1450, 1300)),
    (dt.date(2018, 10, 1), (1900, 1700, 1500)),
    (dt.date(2022, 1, 1), (2000, 1800, 1600)),
]


def load_programmes(apps, schema_editor):
    Programme = apps.get_model("subsidies", "Programme")
    for order, row in enumerate(PROGRAMMES):
        code, zh, en, applicant, rule, period, pays, budget, docs, desc_zh, desc_en = row
        Programme.objects.get_or_create(
            code=code,
            defaults={
                "name_zh": zh,
                "name_en": en,
                "applicant_kind": applicant,
                "rule_code": rule,
                "period_kind": period,
                "pays_money": pays,
                "yearly_budget": budget,
                "required_documents": docs,
                "description_zh": desc_zh,
                "description_en": desc_en,
                "sort_order": order,
            },
        )
    # The hiring subsidy and the traineeship subsidy are not paid for the same graduate
    # and month.
    hiring = Programme.objects.get(code="employer-hiring")
    hiring.excludes.add(Programme.objects.get(code="traineeship-living"))


def unload_programmes(apps, schema_editor):
    apps.get_model("subsidies", "Programme").objects.filter(code__in=[row[0] for row in PROGRAMMES]).delete()


def load_minimum_wage(apps, schema_editor):
    Parameter = apps.get_model("portal", "Parameter")
    for effective_from, values in MINIMUM_WAGE:
        for tier, value in enumerate(values, start=1):
            Parameter.objects.get_or_create(
                key=f"min-wage-tier-{tier}",
                effective_from=effective_from,
                district=None,
                defaults={"value": value, "note": f"Henan minimum wage, tier {tier}, from {effective_from}"},
            )


def unload_minimum_wage(apps, schema_editor):
    apps.get_model("portal", "Parameter").objects.filter(key__startswith="min-wage-tier-").delete()


class Migration(migrations.Migration):
    dependencies = [("subsidies", "0001_initial"), ("portal", "0003_parameters")]
    operations = [
        migrations.RunPython(load_programmes, unload_programmes),
        migrations.RunPython(*parameter_rows(PARAMETERS)),
        migrations.RunPython(load_minimum_wage, unload_minimum_wage),
    ]
