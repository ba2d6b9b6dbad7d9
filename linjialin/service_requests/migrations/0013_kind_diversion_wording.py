"""The seeded diversion messages for court, arbitration and 信访 matters, reworded to tell the resident
where help is instead of that their message is "not accepted" (不予受理). Rules an administrator has
edited since are left as they are."""

from django.db import migrations

# (kind, the seeded Chinese text it replaces, new Chinese, new English)
REWORDED = [
    (
        "litigation",
        "已经起诉或需要由法院裁判的事项，请向人民法院提出，可拨打 12368 诉讼服务热线或到法院"
        "诉讼服务中心咨询。接诉即办不能改变法院的程序和裁判。本次留言登记为“不予受理”，原因如上；社区可以告诉您人民调解和法律援助"
        "（12348）在哪里办理。",
        "这件事需要由人民法院来处理，社区不能替法院作决定。您可以拨打 12368 诉讼服务热线，"
        "或到法院诉讼服务中心问一问下一步怎么办。如果需要帮助，社区可以告诉您人民调解和法律援助（12348）在哪里办理。",
        "This is something the people's court decides, and we cannot decide it for the court. You can call "
        "the court's service line 12368 or visit the court's service centre to ask what to do next. If you "
        "would like help, your community can tell you where to find mediation and free legal aid (12348).",
    ),
    (
        "arbitration",
        "劳动争议请向劳动人事争议仲裁委员会申请仲裁，可拨打 12333 咨询；合同约定了仲裁的纠纷请向约定的"
        "仲裁委员会申请；已在仲裁中的事项请向受理的仲裁委员会反映。本次留言登记为“不予受理”，原因如上。",
        "劳动纠纷由劳动人事争议仲裁委员会处理，您可以先拨打 12333 问一问；如果合同里约定了仲裁机构，"
        "请找约定的仲裁委员会；已经在仲裁的，请直接联系正在办理的仲裁委员会，他们能给您正式的结果。",
        "Labour disputes are settled by the labour and personnel dispute arbitration commission: you can "
        "call 12333 first for advice. If your contract names an arbitration commission, that commission is "
        "the one to contact; if your case is already in arbitration, the commission handling it can give "
        "you a formal answer.",
    ),
    (
        "petition",
        "信访事项有专门的法定渠道和办理时限（《信访工作条例》），请通过信访部门提出：网上信访、来信或到信访"
        "接待场所。接诉即办工单不与信访事项混办。本次留言登记为“不予受理”，原因如上。",
        "信访事项有专门的渠道和办理时限（《信访工作条例》），由信访部门办理，您会得到正式答复。您可以通过网上"
        "信访、写信或到信访接待场所提出。",
        "Petitions (信访) have their own channel and time limits (Regulations on Letters and Visits), so "
        "that you get a formal answer: please raise it with the letters-and-visits office, online, by letter "
        "or in person.",
    ),
]


def reword(apps, schema_editor):
    DiversionRule = apps.get_model("service_requests", "DiversionRule")
    for kind, seeded, zh, en in REWORDED:
        DiversionRule.objects.filter(kind=kind, message_zh=seeded).update(message_zh=zh, message_en=en)


def back(apps, schema_editor):
    DiversionRule = apps.get_model("service_requests", "DiversionRule")
    for kind, seeded, zh, _en in REWORDED:
        DiversionRule.objects.filter(kind=kind, message_zh=zh).update(message_zh=seeded)


class Migration(migrations.Migration):
    dependencies = [("service_requests", "0012_request_place_recent_with_id")]

    operations = [migrations.RunPython(reword, back)]
