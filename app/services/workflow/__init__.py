"""The dossier workflow (docs/domain.md §4): one transition table, one
function that applies it.

- `actions`   the table, as data: who, from which statuses, to which, who is waited on next
- `guards`    the preconditions an action checks (None, or the sentence saying why not)
- `effects`   what an action writes beyond the status, from the fields it declared (`params`)
- `engine`    `transition()`, the only way a status changes; the 48-hour acceptance expiry
- `announce`  telling the parties after commit (worker); the invoice hand-off
- `progress`  the status groups and the step and progress bar each status shows
- `experts`   who may be offered a dossier, and the experts' load counter
"""

from app.services.workflow.actions import (
    ACTIONS,
    ADMIN,
    CLIENT,
    EXPERT,
    PENDING_EXPERT,
    WAITING_AFTER,
    Action,
    flow_of,
)
from app.services.workflow.announce import (
    announce,
    reissue_invoice,
    request_announcement,
    request_invoice,
    unannounced_events,
)
from app.services.workflow.effects import quote_questions
from app.services.workflow.engine import (
    available,
    expire_acceptances,
    refusal,
    relations,
    transition,
)
from app.services.workflow.experts import offerable_experts_query, recount_loads
from app.services.workflow.labels import event_label, status_label
from app.services.workflow.progress import ACTIVE, EXPERT_LOAD, FINAL, step_of, steps_for

__all__ = [
    "ACTIONS",
    "ACTIVE",
    "ADMIN",
    "CLIENT",
    "EXPERT",
    "EXPERT_LOAD",
    "FINAL",
    "PENDING_EXPERT",
    "WAITING_AFTER",
    "Action",
    "announce",
    "available",
    "event_label",
    "expire_acceptances",
    "flow_of",
    "offerable_experts_query",
    "quote_questions",
    "recount_loads",
    "refusal",
    "reissue_invoice",
    "relations",
    "request_announcement",
    "request_invoice",
    "status_label",
    "step_of",
    "steps_for",
    "transition",
    "unannounced_events",
]
