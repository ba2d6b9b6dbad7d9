from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linjialin.core"
    label = "core"
    verbose_name = "core"
