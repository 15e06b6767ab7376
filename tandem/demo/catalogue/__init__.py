"""The demo catalogue: 25 services of six back-office units, one module per unit."""

from __future__ import annotations

from tandem.demo.catalogue.compliance import COMPLIANCE
from tandem.demo.catalogue.hr import HR
from tandem.demo.catalogue.invoicing import INVOICING
from tandem.demo.catalogue.it import IT
from tandem.demo.catalogue.payroll import PAYROLL
from tandem.demo.catalogue.timesheets import TIMESHEETS
from tandem.demo.services import DemoService

SERVICES: tuple[DemoService, ...] = PAYROLL + TIMESHEETS + INVOICING + COMPLIANCE + HR + IT
