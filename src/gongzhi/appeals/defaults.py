"""Default 12345-style categories, deadline policies and routing rules for a Sichuan county; idempotent."""

from __future__ import annotations

from django.db import transaction

from gongzhi.core.scoping import under
from gongzhi.orgs.models import OrgNode, Unit

from .models import Category, DeadlinePolicy, RoutingRule, TimeUnit

# Deadline policies from the 12345 practice: (response amount, unit, resolve amount, unit).
# Names are data an administrator edits; "普通" is also routing.DEFAULT_POLICY's name.
EMERGENCY, UTILITIES, ORDINARY, COMPLEX = "紧急", "水电气暖", "普通", "复杂"
POLICIES = {
    EMERGENCY: (1, TimeUnit.NATURAL_HOURS, 2, TimeUnit.NATURAL_HOURS),
    UTILITIES: (2, TimeUnit.NATURAL_HOURS, 24, TimeUnit.NATURAL_HOURS),
    ORDINARY: (2, TimeUnit.WORKING_HOURS, 7, TimeUnit.WORKING_DAYS),
    COMPLEX: (2, TimeUnit.WORKING_HOURS, 15, TimeUnit.WORKING_DAYS),
}


def _choices(code, description, values, required=True, order=1):
    return {"code": code, "datatype": "singlevaluelist", "required": required, "description": description,
            "order": order, "values": [{"key": k, "name": n} for k, n in values]}


_OUTAGE_SCOPE = [("household", "仅本户"), ("building", "整栋楼"), ("compound", "整个小区或片区")]
_OUTAGE_FIELDS = [
    _choices("scope", "影响范围", _OUTAGE_SCOPE),
    {"code": "since", "datatype": "datetime", "required": False, "description": "从什么时候开始", "order": 2},
]

# (code, name, policy or None = the parent's, keywords, form fields, children)
TREE = [
    ("environment", "市容环境", ORDINARY, "垃圾 卫生 环境", [], [
        ("garbage", "垃圾清运", None, "垃圾 垃圾桶 清运 臭", [], []),
        ("dumping", "乱堆乱放", None, "堆放 杂物 建渣 楼道", [], []),
        ("street-vending", "占道经营", None, "摊贩 占道 夜市", [], []),
        ("greening", "绿化养护", None, "树木 绿化 修剪 草坪", [], []),
        ("drainage", "下水道堵塞", None, "下水道 化粪池 污水 堵塞", [], []),
    ]),
    ("utilities", "水电气暖", UTILITIES, "停水 停电 燃气 供暖", [], [
        ("water", "停水", None, "停水 水压 自来水 水管", _OUTAGE_FIELDS, []),
        ("power", "停电", None, "停电 跳闸 电压 电线", _OUTAGE_FIELDS, []),
        ("gas", "燃气", None, "燃气 天然气 停气 气表", [], []),
        ("heating", "供暖", None, "供暖 暖气", [], []),
    ]),
    ("property", "物业管理", ORDINARY, "物业 小区", [], [
        ("property-service", "物业服务", None, "物业 保洁 门禁 保安", [], []),
        ("parking", "小区停车", None, "停车 车位 电动车", [], []),
        ("elevator", "电梯故障", None, "电梯 困人 停运", [], []),
        ("property-fee", "物业收费", None, "物业费 收费 公摊", [], []),
    ]),
    ("housing", "房屋安全", COMPLEX, "房屋 漏水 裂缝 危房", [], [
        ("leak", "房屋漏水", None, "漏水 渗水 屋顶 防水", [], []),
        ("structure", "房屋裂缝", None, "裂缝 危房 墙体 沉降", [], []),
    ]),
    ("roads", "道路交通", ORDINARY, "道路 交通", [], [
        ("road-damage", "道路破损", None, "坑洼 路面 破损 积水", [], []),
        ("streetlight", "路灯不亮", None, "路灯 照明", [
            {"code": "pole", "datatype": "string", "required": False, "description": "路灯杆编号", "order": 1},
            {"code": "count", "datatype": "number", "required": False, "description": "不亮的盏数", "order": 2},
        ], []),
        ("manhole", "井盖缺失", EMERGENCY, "井盖 窨井", [], []),
        ("illegal-parking", "乱停乱放", None, "乱停 占道停车 堵路", [
            {"code": "plate", "datatype": "string", "required": False, "description": "车牌号", "order": 1},
        ], []),
    ]),
    ("noise", "噪声扰民", ORDINARY, "噪声 噪音 扰民", [], [
        ("construction-noise", "施工噪声", None, "施工 夜间施工 装修", [], []),
        ("living-noise", "生活噪声", None, "广场舞 音响 商铺 喇叭", [
            _choices("when", "什么时候", [("day", "白天"), ("evening", "晚上22点前"), ("night", "夜间22点后")]),
            _choices("source", "噪声来源", [("dance", "广场舞"), ("shop", "商铺音响"), ("neighbour", "邻居"),
                                            ("other", "其他")], required=False, order=2),
        ], []),
    ]),
    ("dispute", "邻里纠纷", ORDINARY, "纠纷 矛盾 调解", [], [
        ("neighbour", "邻里矛盾", None, "邻居 漏水 占用 宠物", [], []),
        ("family", "家庭纠纷", None, "家庭 赡养 婚姻", [], []),
    ]),
    ("social-security", "社会保障", ORDINARY, "低保 养老 医保 补贴", [], [
        ("subsistence", "低保", None, "低保 救助 困难", [], []),
        ("pension", "养老", None, "养老金 高龄补贴 养老保险", [], []),
        ("medical-insurance", "医保", None, "医保 报销 参保", [], []),
    ]),
    ("renovation", "老旧小区改造", COMPLEX, "改造 老旧小区 加装电梯", [], [
        ("renovation-wish", "改造意见", None, "改造 加装电梯 雨污分流 外墙", [], []),
        ("renovation-works", "改造施工问题", None, "施工 质量 进度 围挡", [], []),
    ]),
    ("public-order", "治安", ORDINARY, "治安 盗窃 诈骗 打架", [], []),
    ("safety", "安全隐患", EMERGENCY, "安全 隐患 危险", [], [
        ("fire-hazard", "消防隐患", None, "飞线充电 消防通道 楼道堆物 灭火器", [
            {"code": "hazards", "datatype": "multivaluelist", "required": True, "description": "隐患类型", "order": 1,
             "values": [{"key": k, "name": n} for k, n in (
                 ("charging", "电动车飞线充电"), ("stairwell", "楼道堆放杂物"), ("passage", "消防通道堵塞"),
                 ("extinguisher", "灭火器缺失或过期"))]},
        ], []),
        ("gas-leak", "燃气泄漏", None, "燃气泄漏 煤气味", [], []),
        ("falling-objects", "高空坠物", None, "高空坠物 外墙脱落 广告牌", [], []),
        ("geo-hazard", "地质灾害", None, "滑坡 落石 泥石流", [], []),
    ]),
    ("advice", "建议咨询", ORDINARY, "咨询 建议", [], [
        ("policy-question", "政策咨询", None, "政策 办事 咨询 证明", [], []),
        ("suggestion", "意见建议", None, "建议 意见", [], []),
    ]),
]

OWN_GRID, OWN_COMMUNITY = RoutingRule.Target.OWN_GRID, RoutingRule.Target.OWN_COMMUNITY
# Routing under a county: (category code or None = every category, target, auto_dispatch).
# A unit target lists name endings to try in order (a partner unit where the county has one, else the
# department in charge); when the county has none of them the appeal's community handles it.
ROUTES = [
    (None, OWN_COMMUNITY, False),
    ("environment", OWN_GRID, False),
    ("street-vending", ("综合行政执法局",), False),
    ("water", ("自来水公司", "供排水公司", "水务公司", "住建局"), False),
    ("power", ("供电公司", "经科局"), False),
    ("gas", ("燃气公司", "住建局"), False),
    ("heating", ("住建局",), False),
    ("elevator", ("市场监管局",), False),
    ("housing", ("住建局",), False),
    ("roads", ("住建局",), False),
    ("manhole", ("住建局",), True),
    ("illegal-parking", ("交警大队", "公安局"), False),
    ("construction-noise", ("生态环境局",), False),
    ("living-noise", OWN_GRID, False),
    ("pension", ("人社局",), False),
    ("medical-insurance", ("医保局", "人社局"), False),
    ("renovation", ("住建局",), False),
    ("public-order", ("公安局",), False),
    ("safety", OWN_GRID, True),
    ("gas-leak", ("燃气公司", "应急管理局"), True),
    ("geo-hazard", ("自然资源局", "应急管理局"), True),
]


def leaf_codes() -> list[str]:
    """Codes of the categories appeals are filed under (those without children), in tree order."""
    out = []
    for code, _name, _policy, _kw, _fields, children in TREE:
        out += [c[0] for c in children] if children else [code]
    return out


def _unit(root: OrgNode, endings) -> Unit | None:
    units = list(Unit.objects.filter(under(root.path)).order_by("kind", "name"))
    for ending in endings:
        for unit in units:
            if unit.name.endswith(ending):
                return unit
    return None


@transaction.atomic
def ensure_default_categories(root: OrgNode | None = None) -> dict:
    """Create the default policies and categories that are missing, and the routing rules under ``root``
    (every root of the tree when None) that are missing. Existing rows are left as an admin set them."""
    created = {"policies": 0, "categories": 0, "rules": 0}
    policies = {}
    for name, (r_amount, r_unit, s_amount, s_unit) in POLICIES.items():
        policies[name], made = DeadlinePolicy.objects.get_or_create(name=name, defaults={
            "response_amount": r_amount, "response_unit": r_unit, "resolve_amount": s_amount, "resolve_unit": s_unit,
        })
        created["policies"] += made
    by_code = {}
    order = 0

    def add(code, name, policy, keywords, fields, parent):
        nonlocal order
        order += 1
        cat, made = Category.objects.get_or_create(code=code, defaults={
            "name": name, "parent": parent, "policy": policies[policy] if policy else None, "keywords": keywords,
            "form_fields": fields, "sort_order": order,
        })
        created["categories"] += made
        by_code[code] = cat
        return cat

    for code, name, policy, keywords, fields, children in TREE:
        parent = add(code, name, policy, keywords, fields, None)
        for c_code, c_name, c_policy, c_keywords, c_fields, _none in children:
            add(c_code, c_name, c_policy, c_keywords, c_fields, parent)

    roots = [root] if root is not None else list(OrgNode.objects.get_root_nodes())
    for node in roots:
        for code, target, auto in ROUTES:
            fields = {"org_path": node.path, "auto_dispatch": auto}
            if isinstance(target, tuple):
                unit = _unit(node, target)
                fields.update({"target": RoutingRule.Target.UNIT, "target_unit": unit} if unit else
                              {"target": OWN_COMMUNITY, "auto_dispatch": False})
            else:
                fields["target"] = target
            _rule, made = RoutingRule.objects.get_or_create(
                node=node, category=by_code[code] if code else None, defaults=fields
            )
            created["rules"] += made
    return created
