"""The courses plugin's settings, parsed once (in ``lms_includeme``) into a frozen object.

Views read :func:`courses_config` from the registry and never parse settings per
request; a bad value stops the start-up. (``lms import-course`` reads the import
limits itself: :mod:`plugins.courses.importer`.)
"""
from dataclasses import dataclass

from lms.settings import as_bool, as_int, parse_rate

CONFIG_KEY = "courses.config"


@dataclass(frozen=True)
class CoursesConfig:
    structure_cache_size: int
    structure_cache_bytes: int
    # Blocks and xblock APIs: html student_view_data carries the HTML.
    html_student_view_data: bool
    # Course list throttle rates ("<count>/<period>"), checked at start-up.
    course_list_rate: str
    course_list_staff_rate: str
    course_list_service_user_rate: str
    auto_certificate_generation: bool
    asset_cache_ttl: int

    @classmethod
    def from_settings(cls, settings):
        rates = {}
        for name in ("course_list_rate", "course_list_staff_rate",
                     "course_list_service_user_rate"):
            rates[name] = settings[f"courses.{name}"]
            parse_rate(rates[name])
        return cls(
            structure_cache_size=as_int(settings, "courses.structure_cache_size"),
            structure_cache_bytes=as_int(settings, "courses.structure_cache_bytes"),
            html_student_view_data=as_bool(settings, "courses.html_student_view_data"),
            auto_certificate_generation=as_bool(settings, "courses.auto_certificate_generation"),
            asset_cache_ttl=as_int(settings, "courses.asset_cache_ttl"),
            **rates,
        )


def courses_config(registry):
    return registry[CONFIG_KEY]
