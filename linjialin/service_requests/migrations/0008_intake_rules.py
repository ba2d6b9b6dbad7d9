"""Intake (docs/intake.md): the repeat window as data, and the seeded diversion rules (defaults, editable
in the admin): emergencies by the number to call (119 / 120 / 110 / 122), litigation, arbitration and
信访 with the channel each belongs to."""

from django.db import migrations, models

RULES = [
    (
        "emergency",
        "着火\n起火\n失火\n火灾\n冒烟\n煤气泄漏\n燃气泄漏\n天然气泄漏\n煤气味\n燃气味\nfire\ngas leak\nsmoke",
        "如果现在正在着火、冒烟或有燃气泄漏，请立即拨打 119 火警电话。燃气泄漏时请关闭阀门、开窗通风，"
        "不要开关电器、不要在室内打电话。这个页面不是紧急渠道：您的留言已登记，并已通知社区值班人员跟进。",
        "If there is a fire, smoke or a gas leak now, call 119 (fire) at once. For gas: close the valve, "
        "open the windows, do not switch anything on or off and do not phone from inside. This page is not "
        "an emergency channel: your message is recorded and the people on duty in your community are told.",
        "119 火警",
    ),
    (
        "emergency",
        "有人晕倒\n晕倒\n昏迷\n不省人事\n心脏病发作\n呼吸困难\n大出血\n中风\n有人受伤\n摔倒起不来\n"
        "unconscious\nfainted\nnot breathing\nheart attack",
        "如果有人晕倒、昏迷、呼吸困难或严重受伤，请立即拨打 120 急救电话。这个页面不是紧急渠道："
        "您的留言已登记，并已通知社区值班人员跟进。",
        "If someone has collapsed, is unconscious, cannot breathe or is badly hurt, call 120 (ambulance) "
        "at once. This page is not an emergency channel: your message is recorded and the people on duty "
        "in your community are told.",
        "120 急救",
    ),
    (
        "emergency",
        "打架\n斗殴\n持刀\n砍人\n抢劫\n入室盗窃\n有人撬门\n家暴\n绑架\n要跳楼\n有人跳楼\n"
        "fighting\nknife\nrobbery\nburglary",
        "如果正在发生打架、持刀伤人、抢劫、盗窃或家庭暴力等危及人身财产安全的情况，请立即拨打 110 报警电话。"
        "这个页面不是紧急渠道：您的留言已登记，并已通知社区值班人员跟进。",
        "If a fight, a knife attack, a robbery, a burglary or domestic violence is happening, call 110 "
        "(police) at once. This page is not an emergency channel: your message is recorded and the people "
        "on duty in your community are told.",
        "110 报警",
    ),
    (
        "emergency",
        "车祸\n撞车\n被车撞\n交通事故\ncar accident\ntraffic accident",
        "发生交通事故请立即拨打 122 交通事故报警电话（有人受伤同时拨打 120）。这个页面不是紧急渠道："
        "您的留言已登记，并已通知社区值班人员跟进。",
        "For a traffic accident call 122 (traffic police) at once, and 120 if anyone is hurt. This page is "
        "not an emergency channel: your message is recorded and the people on duty in your community are "
        "told.",
        "122 交通事故报警",
    ),
    (
        "litigation",
        "起诉\n诉讼\n法院\n判决\n裁定书\n开庭\n上诉\n强制执行\n律师函\nlawsuit\ncourt",
        "已经起诉或需要由法院裁判的事项，请向人民法院提出，"
        "可拨打 12368 诉讼服务热线或到法院诉讼服务中心咨询。接诉即办不能改变法院的程序和裁判。本次留言登记为“不予受理”，原因如上；社区可以告诉您人民调解和法律援助"
        "（12348）在哪里办理。",
        "A matter that is before a court, or that only a court can decide, belongs to the people's court: "
        "call the litigation service line 12368 or visit the court's service centre. The request service "
        "cannot change a court's procedure or judgment. This message is recorded as not accepted for that "
        "reason; your community can tell you where to find mediation and legal aid (12348).",
        "人民法院（12368 诉讼服务热线）",
    ),
    (
        "arbitration",
        "劳动仲裁\n仲裁委\n仲裁\n劳动争议\narbitration",
        "劳动争议请向劳动人事争议仲裁委员会申请仲裁，可拨打 12333 咨询；合同约定了仲裁的纠纷请向约定的"
        "仲裁委员会申请；已在仲裁中的事项请向受理的仲裁委员会反映。本次留言登记为“不予受理”，原因如上。",
        "A labour dispute belongs to the labour and personnel dispute arbitration commission (advice: "
        "12333); a dispute whose contract names an arbitration commission belongs to that commission; a "
        "matter already in arbitration belongs to the commission handling it. This message is recorded as "
        "not accepted for that reason.",
        "劳动人事争议仲裁委员会 / 仲裁委员会",
    ),
    (
        "petition",
        "信访\n上访\n信访局\n信访办\n访民\n集体访\npetition",
        "信访事项有专门的法定渠道和办理时限（《信访工作条例》），请通过信访部门提出：网上信访、来信或到信访"
        "接待场所。接诉即办工单不与信访事项混办。本次留言登记为“不予受理”，原因如上。",
        "Petitions (信访) have their own legal channel and time limits (Regulations on Letters and "
        "Visits): please go to the letters-and-visits office, online, by letter or in person. The request "
        "service does not mix them with its work orders. This message is recorded as not accepted for that "
        "reason.",
        "信访部门（区信访办）",
    ),
]


def seed(apps, schema_editor):
    DiversionRule = apps.get_model("service_requests", "DiversionRule")
    if DiversionRule.objects.exists():
        return
    DiversionRule.objects.bulk_create(
        DiversionRule(kind=kind, keywords=keywords, message_zh=zh, message_en=en, referred_to=to)
        for kind, keywords, zh, en, to in RULES
    )


def unseed(apps, schema_editor):
    DiversionRule = apps.get_model("service_requests", "DiversionRule")
    DiversionRule.objects.filter(referred_to__in=[r[4] for r in RULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("service_requests", "0007_board_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="requestrules",
            name="repeat_days",
            field=models.PositiveSmallIntegerField(
                default=30,
                verbose_name="a repeat: an open request at the same place submitted within this many days",
            ),
        ),
        migrations.AddField(
            model_name="requestrules",
            name="repeat_similarity",
            field=models.PositiveSmallIntegerField(
                default=80, verbose_name="a repeat: text similarity (%) that counts as the same matter"
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
