from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "gongzhi.site"
    label = "gongzhi_site"
    verbose_name = "Gongzhi site"
