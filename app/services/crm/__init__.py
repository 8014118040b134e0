"""The sales side (docs/domain.md A11): the request form (`requestform`), leads and the pipeline
(`leads`), activities (`activities`) and the CRM figures (`figures`)."""

from app.services.crm import activities, leads, requestform

__all__ = ["activities", "leads", "requestform"]
