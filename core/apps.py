from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "People, teams and roles"

    def ready(self):
        # Sign-in starts the session's clocks (core.auth): its absolute limit and the age
        # of the password for re-authentication.
        from django.contrib.auth.signals import user_logged_in

        from core.auth import record_sign_in

        user_logged_in.connect(record_sign_in, dispatch_uid="core.auth.record_sign_in")
