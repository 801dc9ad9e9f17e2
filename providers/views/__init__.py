"""The commissioning team's provider directory: services, providers, frameworks and their
rates, discounts and CSV imports. Thin: reads go through providers.selectors, changes
through providers.services.catalogue and providers.services.imports, which decide who may
change the catalogue (commissioning officers and administrators).

- common: who may edit and the form page (a posted form goes to a service through
  core.pages.saved);
- directory: services, providers and discounts;
- frameworks: frameworks, ceiling rates and the annual uplift;
- csv_imports: the CSV imports and their templates.
"""

from providers.views.common import PAGE_SIZE, editor_required, is_catalogue_editor
from providers.views.csv_imports import (
    SERVICE_EXAMPLE,
    rate_import,
    rate_import_template,
    service_import,
    service_import_template,
)
from providers.views.directory import (
    discount_create,
    discount_end,
    provider_create,
    provider_detail,
    provider_edit,
    service_create,
    service_detail,
    service_directory,
    service_edit,
)
from providers.views.frameworks import (
    framework_detail,
    framework_list,
    framework_rate_set,
    framework_uplift,
    rates_grid,
)

__all__ = [
    "PAGE_SIZE", "SERVICE_EXAMPLE", "discount_create", "discount_end", "editor_required",
    "framework_detail", "framework_list", "framework_rate_set", "framework_uplift",
    "is_catalogue_editor", "provider_create", "provider_detail", "provider_edit",
    "rate_import", "rate_import_template", "rates_grid", "service_create", "service_detail",
    "service_directory", "service_edit", "service_import", "service_import_template",
]
