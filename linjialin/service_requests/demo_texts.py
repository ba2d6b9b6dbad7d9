"""What the demo year's residents write: Chinese descriptions per category (with variety), the seasonal
mix of the fields, and the words handlers use. Data only; service_requests/demo_year.py uses it."""

from __future__ import annotations

# sub-category code → templates; {where}: the stairwell or spot, {days}: how long, {time}: when
TEXTS: dict[str, list[str]] = {
    "corridor-light": [
        "{where}的声控灯坏了{days}，晚上上下楼看不见台阶，家里老人不敢出门",
        "{where}楼道灯一直不亮，拍手跺脚都没反应，麻烦尽快修一下",
        "{where}的灯忽明忽暗，{time}特别吓人，担心线路有问题",
    ],
    "corridor-clutter": [
        "{where}有人堆了旧柜子和纸箱，挡住了一半楼梯，{days}了也没人清理",
        "{where}楼道里放着好几袋杂物，担心着火，请物业协调清理",
    ],
    "corridor-clean": [
        "{where}楼道{days}没人打扫了，地上有垃圾，味道很大",
        "{where}楼梯扶手很脏，保洁好像不来了",
    ],
    "corridor-door": [
        "单元门门禁坏了{days}，刷卡没反应，老人进不了门",
        "单元门闭门器坏了，门关不上，{time}有陌生人进出",
    ],
    "corridor-ads": [
        "{where}墙上贴满了开锁、通下水道的小广告，刚清完又贴上了",
        "楼道里小广告太多，门上也被喷了号码，请处理",
    ],
    "property-attitude": [
        "到物业报修，工作人员态度很差，推说不归他们管",
        "物业电话总是没人接，打了{days}也没人回复",
    ],
    "property-fee": [
        "物业费涨了但服务没变，想了解收费依据有没有公示",
        "物业多收了一个月的费用，去问了说不清楚",
    ],
    "property-lift": [
        "{where}电梯又坏了，{days}了还没修好，楼上老人只能爬楼",
        "电梯运行时有异响，还突然停过一次，大家都不敢坐",
        "电梯按钮失灵，经常到不了自己那层",
    ],
    "property-repair": [
        "小区{where}附近的健身器材坏了，螺丝松动，孩子玩很危险",
        "楼下的公共座椅断了一条腿，请尽快修理",
        "单元门口的雨棚破了，下雨天漏水",
    ],
    "property-security": [
        "小区门岗晚上没人值守，外来车辆随便进出",
        "门岗不登记外卖和快递人员，担心安全",
    ],
    "sanitation-collection": [
        "{where}旁边的垃圾桶满了{days}没人清运，招苍蝇",
        "垃圾站的垃圾堆到外面了，味道很大，{time}尤其明显",
    ],
    "sanitation-water": [
        "下雨后{where}门口积水很深，老人出门要趟水",
        "小区路面低洼处积水{days}不退，蚊子很多",
    ],
    "sanitation-pests": [
        "{where}附近老鼠很多，晚上能看见在垃圾桶边跑",
        "地下室蟑螂多，希望统一消杀",
    ],
    "sanitation-public": [
        "小区{where}附近乱扔垃圾的情况很严重，没人管",
        "楼后空地堆满了建筑垃圾和落叶",
    ],
    "leak-roof": [
        "顶层屋面防水老化，一下雨家里天花板就渗水，墙皮都掉了",
        "楼顶漏水{days}了，卧室墙面发霉，请帮忙协调维修",
    ],
    "leak-pipe": [
        "{where}的公共水管漏水，地面一直湿滑",
        "楼里的下水立管漏水，楼下墙面被泡了",
    ],
    "leak-wall": [
        "外墙保温层有脱落，就在单元门上方，怕砸到人",
        "{where}墙体出现裂缝，越来越宽，担心安全",
    ],
    "leak-window": [
        "{where}的窗户玻璃碎了，冬天灌冷风",
        "楼道窗户关不上，下雨往里进水",
    ],
    "municipal-streetlight": [
        "小区{where}附近的路灯不亮{days}了，晚上走路看不清",
        "主路上有两盏路灯坏了，{time}这段路一片黑",
    ],
    "municipal-road": [
        "小区门口人行道砖块松动，老人容易绊倒",
        "{where}门前的路面有个大坑，下雨积水，电动车容易摔",
    ],
    "municipal-manhole": [
        "{where}旁边的井盖缺了一角，晚上看不见很危险",
        "路上的井盖松动，车压过去哐哐响",
    ],
    "municipal-drain": [
        "{where}门口的下水道堵了，污水漫出来",
        "小区雨水口堵塞，一下雨就积水",
    ],
    "parking-illegal": [
        "{where}门口总有车乱停，救护车都进不来",
        "有车长期停在单元门口，挡住了轮椅坡道",
    ],
    "parking-firelane": [
        "消防通道被私家车占了{days}，万一着火怎么办",
        "{where}旁边的消防通道停满了车，请处理",
    ],
    "parking-fee": [
        "小区车位太少，晚上回来根本没地方停，希望规划一下",
        "地面停车费突然上涨，没有公示",
    ],
    "parking-signals": [
        "小区出口的限速牌倒了，车开得很快",
        "小区门口的减速带坏了，车速太快，孩子上学很危险",
    ],
    "noise-renovation": [
        "{where}有人家装修，中午和周末也在砸墙，休息不了",
        "楼上装修电钻声从早到晚，家里有病人需要休息",
    ],
    "noise-shop": [
        "小区广场舞音响声音太大，{time}还没结束，影响孩子写作业",
        "楼下商铺大喇叭循环播放促销，吵得不行",
    ],
    "noise-night": [
        "附近工地夜里施工，{time}还在打桩，睡不着觉",
        "半夜有渣土车进出，噪音很大",
    ],
    "noise-neighbour": [
        "楼上邻居{time}经常拖拽家具，声音很大，沟通过没用",
        "隔壁养的狗整夜叫，影响休息",
    ],
    "neighbour-leak": [
        "楼上卫生间漏水到我家，找了几次都没人开门",
        "楼上漏水把我家天花板泡坏了，双方说不到一块",
    ],
    "neighbour-pets": [
        "有邻居遛狗不拴绳，{where}经常有狗粪",
        "邻居在楼道里养猫，气味很大",
    ],
    "neighbour-space": [
        "{where}被邻居装了铁门占为己有",
        "一楼住户在楼前绿地上围了菜园",
    ],
    "charging-wires": [
        "有人从{where}窗户拉电线给电动车充电，太危险了",
        "楼下又有飞线充电，电线横在路上",
    ],
    "charging-points": [
        "小区充电桩太少，晚上排队也充不上，大家只好拉线",
        "{where}附近的充电桩坏了{days}，一直没人修",
    ],
    "charging-indoors": [
        "有人把电动车推进{where}充电，堵着楼道还怕起火",
        "电动车停在楼道里，晚上还在充电，请管一管",
    ],
    "waste-points": [
        "{where}附近的分类投放点桶不够，垃圾扔在地上",
        "垃圾分类桶站的洗手池没水了",
    ],
    "waste-bulky": [
        "{where}旁边堆着装修垃圾{days}了，没人清运",
        "有人把旧沙发扔在楼下，占了半条路",
    ],
    "waste-guidance": [
        "想了解厨余垃圾怎么分，小区能不能来人讲一讲",
        "桶前值守的人{time}不在，大家分不清怎么投放",
    ],
    "greening-trees": [
        "{where}前面的树长得太高，挡住了低层的阳光",
        "树枝快碰到电线了，刮风时很危险",
    ],
    "greening-taken": [
        "楼前绿地被人铺了水泥停车",
        "小区绿化带被踩秃了，希望补种",
    ],
    "utilities-water": [
        "家里自来水发黄，{days}了还是这样，不敢喝",
        "{where}突然停水，没有提前通知",
    ],
    "utilities-power": [
        "楼里{time}突然停电，冰箱里的东西都坏了",
        "单元总闸老是跳，请电工来查一查",
    ],
    "utilities-gas": [
        "燃气表显示异常，想请燃气公司来检查",
        "厨房燃气管道老化，想问能不能统一更换",
    ],
    "utilities-heating": [
        "家里暖气不热，室温只有十五六度，老人冻得受不了",
        "暖气片上热下凉，放了气也不管用",
        "{where}这几户暖气都不热，打供热热线没人来",
    ],
    "safety-fire": [
        "{where}的消防栓没水，灭火器也过期了",
        "楼道里的应急灯坏了，安全出口标志也不亮",
    ],
    "safety-falling": [
        "有人从楼上往下扔垃圾，差点砸到人",
        "{where}上方的空调架锈了，担心掉下来",
    ],
    "safety-suspicious": [
        "最近{time}小区里有陌生人挨家敲门推销",
        "{where}附近的自行车被偷了好几辆",
    ],
}
FALLBACK = ["{where}有问题需要处理，麻烦看一下", "想反映一个小区里的问题：{where}附近情况不好"]

WHERE = ["楼道", "一层", "三层", "五层", "七楼", "单元门口", "楼后", "小区东门", "小区北侧", "地下车库"]
DAYS = ["两天", "三天", "一个星期", "好几天", "半个月", "快一个月"]
WHEN = ["晚上", "夜里十一点以后", "一大早", "中午", "周末", "傍晚"]

# field (top-level code) → weight per month 1..12: heating in winter, e-bike charging in summer …
_FLAT = (1,) * 12
SEASONS: dict[str, tuple[float, ...]] = {
    "corridor": (3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3),
    "property": (3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3),
    "sanitation": (1, 1, 1.5, 1.5, 2, 3, 3.5, 3.5, 2, 1.5, 1, 1),
    "leak": (1, 1, 1, 1.5, 2, 3, 4, 3.5, 2, 1, 1, 1),
    "municipal": (1.5, 1.5, 1.5, 1.5, 1.5, 2, 2.5, 2.5, 1.5, 1.5, 1.5, 1.5),
    "parking": (2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2),
    "noise": (1, 1.5, 2, 2.5, 3, 3, 3, 3, 2.5, 2, 1.5, 1),
    "neighbour": _FLAT,
    "charging": (1, 1, 1.5, 2, 3, 3.5, 3.5, 3.5, 3, 2, 1.5, 1),
    "waste": (1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5),
    "greening": (0.2, 0.2, 1, 2, 2, 1.5, 1, 1, 1, 0.5, 0.2, 0.2),
    "utilities": (6, 5, 3, 0.8, 0.6, 1, 1.2, 1.2, 0.6, 0.8, 5, 7),
    "safety": (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
}
# sub-categories much more likely than their siblings in some months (heating in the heating season)
HEATING_MONTHS = {1, 2, 3, 11, 12}

CONTACT = [
    "电话联系了居民，约好下午上门查看",
    "已电话回复，说明了处理安排",
    "上门查看了现场，拍了照片",
    "在楼门微信群里联系上了居民",
    "和居民当面沟通，了解了具体情况",
]
# sub-category code → what the handler wrote when resolving it (the board shows the problem beside it)
RESULTS: dict[str, list[str]] = {
    "corridor-light": ["联系物业更换了声控灯，已恢复照明", "电工检修了楼道线路，灯已正常"],
    "corridor-clutter": ["协调物业清理完毕，楼道通畅", "楼门长上门劝导，住户已自行搬走杂物"],
    "corridor-clean": ["物业已恢复每日保洁，楼道清扫干净", "约谈保洁主管，已补做清洁"],
    "corridor-door": ["已修好门禁，刷卡正常", "更换了闭门器，单元门能自动关上了"],
    "corridor-ads": ["组织志愿者清理了小广告，并张贴提示", "物业已清除喷涂号码，加强巡查"],
    "property-attitude": ["约谈物业经理，工作人员已向居民道歉", "物业公布了报修电话和值班人员"],
    "property-fee": ["物业已公示收费依据并答复居民", "核对后多收的费用已退还"],
    "property-lift": ["电梯维保单位已检修，运行正常", "更换了故障部件，电梯已恢复运行"],
    "property-repair": ["物业当天安排维修，已修好", "已更换损坏设施"],
    "property-security": ["门岗已恢复夜间值守", "门岗已落实外来人员登记"],
    "sanitation-collection": ["协调环卫加派清运车辆，已清理干净", "调整了清运时间，每天清运两次"],
    "sanitation-water": ["积水已抽排，雨水口已疏通", "低洼处已垫平，排水正常"],
    "sanitation-pests": ["已安排消杀，并加装了防鼠设施", "已投放灭鼠药并封堵鼠洞"],
    "sanitation-public": ["已安排保洁清理，恢复整洁", "协调环卫增加了保洁频次"],
    "leak-roof": ["住建部门组织施工队重做了屋面防水", "已修补屋面，雨天不再漏水"],
    "leak-pipe": ["已更换漏水管段，墙面修补完毕", "物业关阀抢修，管道已不再渗漏"],
    "leak-wall": ["外墙脱落部分已拆除并修复", "已修补外墙裂缝并做了防水"],
    "leak-window": ["已更换楼道窗户密封条", "楼道窗户已修好，能关严了"],
    "municipal-streetlight": ["路灯已维修，恢复照明", "市政养护单位更换了灯杆"],
    "municipal-road": ["市政养护单位已修补路面", "坑洼处已填平"],
    "municipal-manhole": ["已更换井盖并设置警示", "井盖已复位加固"],
    "municipal-drain": ["雨水口已疏通", "管道已清掏，排水恢复"],
    "parking-illegal": ["联系车主挪车并张贴告知，通道已畅通", "物业加强了停车巡查"],
    "parking-firelane": ["消防通道已清空并施划禁停线", "联系车主挪车，通道已畅通"],
    "parking-fee": ["物业已公示停车收费标准并答复", "核对后多收的停车费已退还"],
    "parking-signals": ["已修复减速带和标志牌", "道闸已维修，进出正常"],
    "noise-renovation": ["上门提醒装修户遵守施工时间，已改正", "物业与装修户约定了施工时段"],
    "noise-shop": ["城管约谈商户，已降低音量", "商户已调整了营业时间"],
    "noise-night": ["城管执法队约谈施工单位，夜间已停工", "与广场舞队协商降低音量、缩短时间"],
    "noise-neighbour": ["楼门长上门沟通，邻居已注意", "组织双方见面协商，已达成一致"],
    "neighbour-leak": ["协调楼上住户维修，已不再渗水", "组织双方协商，维修费用已谈妥"],
    "neighbour-pets": ["楼门长上门劝导，养犬人已拴绳出门", "养犬人已清理并承诺及时处理"],
    "neighbour-space": ["楼门长上门劝导，占用的公共空间已腾出", "组织双方协商，已达成一致"],
    "charging-wires": ["拆除了飞线，引导到充电桩充电", "物业加强巡查，已劝导住户停止飞线"],
    "charging-points": ["新增了充电桩并修复损坏设备", "充电桩已维修，恢复使用"],
    "charging-indoors": ["劝导住户把电动车移出楼道", "电动车已移到集中停放点"],
    "waste-points": ["已增设分类桶并安排值守", "分类站点已清理并恢复值守"],
    "waste-bulky": ["装修垃圾已清运", "大件垃圾已预约清运完毕"],
    "waste-guidance": ["安排志愿者在投放点值守指导", "楼门内张贴了分类指引"],
    "greening-trees": ["园林部门已修剪树木", "已清理断枝，消除隐患"],
    "greening-taken": ["已恢复绿地并补种", "占用绿地的杂物已清除"],
    "utilities-water": ["已检修管线，恢复正常供水", "自来水公司已调整水压"],
    "utilities-power": ["供电所已抢修，恢复供电", "更换了损坏的电表箱"],
    "utilities-gas": ["燃气公司已上门检查，无泄漏", "燃气公司已更换老化软管"],
    "utilities-heating": ["供热公司上门放气调试，室温已达标", "已维修暖气管道，恢复供暖"],
    "safety-fire": ["已更换灭火器并修复消防栓", "已清理消防通道并加强巡查"],
    "safety-falling": ["已拆除隐患设施", "已加固松动部件并设置警示"],
    "safety-suspicious": ["加强了门岗巡逻，已提醒居民注意防范", "已联系社区民警，加强巡逻"],
}
RESULT_OTHER = ["已协调相关单位处理完毕", "已现场处理并回复居民"]  # a problem with no words of its own
ESCALATE = [
    "涉及多个楼门，楼门解决不了",
    "需要网格协调物业和相关部门",
    "涉及公共设施产权，需社区协调",
    "需要街道协调职能部门",
]
COMMENTS = {
    "satisfied": ["很快就解决了，谢谢", "处理及时，满意", "楼门长很负责", "问题解决了，辛苦了", ""],
    "basically": ["解决了，就是慢了点", "基本解决，希望以后多巡查", ""],
    "unsatisfied": ["问题还在，没有真正解决", "只是敷衍了一下，过两天又坏了", "没有人来现场看"],
}
