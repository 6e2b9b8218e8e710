"""Categories, policies and routing for appeal tests, on top of the `tree` fixture."""

from gongzhi.appeals.models import Category, DeadlinePolicy, RoutingRule, TimeUnit


def make_categories():
    ordinary = DeadlinePolicy.objects.create(name="普通", resolve_amount=7, resolve_unit=TimeUnit.WORKING_DAYS)
    urgent = DeadlinePolicy.objects.create(name="紧急", response_amount=30, response_unit=TimeUnit.NATURAL_HOURS,
                                           resolve_amount=2, resolve_unit=TimeUnit.NATURAL_HOURS)
    utilities = DeadlinePolicy.objects.create(name="水电气暖", resolve_amount=24, resolve_unit=TimeUnit.NATURAL_HOURS)
    env = Category.objects.create(code="environment", name="环境卫生", policy=ordinary)
    garbage = Category.objects.create(code="garbage", name="垃圾清运", parent=env)
    water = Category.objects.create(
        code="water", name="供水", policy=utilities,
        form_fields=[{"code": "outage", "datatype": "singlevaluelist", "required": True, "description": "停水情况",
                      "values": [{"key": "none", "name": "没有水"}, {"key": "low", "name": "水压低"}]}],
    )
    safety = Category.objects.create(code="safety", name="安全隐患", policy=urgent)
    return {"ordinary": ordinary, "urgent": urgent, "env": env, "garbage": garbage, "water": water, "safety": safety}


def route_water_to(unit, node):
    return RoutingRule.objects.create(node=node, org_path=node.path, category=None, target=RoutingRule.Target.UNIT,
                                      target_unit=unit)
