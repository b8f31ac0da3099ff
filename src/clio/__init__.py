"""clio: publication workflow and version history for SQLAlchemy models.

Every object has versions in one table: at most one published, at most one
pending (new, editable, updatable or deleted) and any number archived.
``import clio`` gives the engine; ``config.include('clio')`` the Pyramid
plugin.
"""

from clio.exceptions import (
    ClioError,
    CompareError,
    ConflictError,
    DeleteError,
    DetachedVersionError,
    DiscardError,
    EditError,
    ExpireError,
    ImmutableVersionError,
    InvalidCodeError,
    PublishError,
    RelationError,
    RevertError,
    ScheduleError,
    UnknownStatusError,
    UpdateError,
    ViewError,
)
from clio.interfaces import IClioModel, ICurrentUserId, IVersioned, IWorkflowed
from clio.model import Model, Workflowed
from clio.relations import workflow_properties
from clio.schema import Table, workflow_columns, workflow_constraints
from clio.sequence import Sequence
from clio.status import (
    ACTUAL_STATUSES,
    ARCHIVED,
    DELETED,
    DELETED_EDITABLE,
    DELETED_STATUSES,
    DELETED_UPDATABLE,
    EDITABLE,
    EDITABLE_STATUSES,
    NEW,
    NEW_VERSION_STATUSES,
    PUBLISHED,
    PUBLISHED_STATUSES,
    PUBLISHED_UNDER_DELETE,
    PUBLISHED_UNDER_EDIT,
    PUBLISHED_UNDER_UPDATE,
    TOMBSTONE,
    TOMBSTONE_EDITABLE,
    TOMBSTONE_STATUSES,
    TOMBSTONE_UPDATABLE,
    UPDATABLE,
    status_name,
)
from clio.diffing import diff
from clio.versioning import (
    HISTORY_ARCHIVE,
    HISTORY_CHANGE,
    HISTORY_CREATE,
    HISTORY_DELETE,
    HISTORY_EDIT,
    HISTORY_EDIT_DELETE,
    HISTORY_PUBLISH,
    HistoryEvent,
    history,
    versions,
)
from clio.views import view
from clio.reads import version_at
from clio.workflow import Workflow
from clio.bulk import edit_all, publish_all
from clio.check import check  # the function shadows the module's name
from clio.versioning import Versioned
from clio.adapters import register_default_adapters

register_default_adapters()


def includeme(config):
    """``config.include('clio')``: the Pyramid plugin (see :mod:`clio.config`).

    Imported lazily, so that ``import clio`` needs no Pyramid."""
    from clio.config import includeme as include

    include(config)


__all__ = [
    "ACTUAL_STATUSES",
    "ARCHIVED",
    "ClioError",
    "CompareError",
    "ConflictError",
    "DELETED",
    "DELETED_EDITABLE",
    "DELETED_STATUSES",
    "DELETED_UPDATABLE",
    "DeleteError",
    "DetachedVersionError",
    "DiscardError",
    "EDITABLE",
    "EDITABLE_STATUSES",
    "EditError",
    "ExpireError",
    "HISTORY_ARCHIVE",
    "HISTORY_CHANGE",
    "HISTORY_CREATE",
    "HISTORY_DELETE",
    "HISTORY_EDIT",
    "HISTORY_EDIT_DELETE",
    "HISTORY_PUBLISH",
    "HistoryEvent",
    "IClioModel",
    "ICurrentUserId",
    "IVersioned",
    "IWorkflowed",
    "ImmutableVersionError",
    "InvalidCodeError",
    "Model",
    "NEW",
    "NEW_VERSION_STATUSES",
    "PUBLISHED",
    "PUBLISHED_STATUSES",
    "PUBLISHED_UNDER_DELETE",
    "PUBLISHED_UNDER_EDIT",
    "PUBLISHED_UNDER_UPDATE",
    "PublishError",
    "RelationError",
    "RevertError",
    "ScheduleError",
    "Sequence",
    "Table",
    "TOMBSTONE",
    "TOMBSTONE_EDITABLE",
    "TOMBSTONE_STATUSES",
    "TOMBSTONE_UPDATABLE",
    "UPDATABLE",
    "UnknownStatusError",
    "UpdateError",
    "Versioned",
    "ViewError",
    "Workflow",
    "Workflowed",
    "check",
    "diff",
    "edit_all",
    "history",
    "includeme",
    "publish_all",
    "register_default_adapters",
    "status_name",
    "version_at",
    "versions",
    "view",
    "workflow_columns",
    "workflow_constraints",
    "workflow_properties",
]
