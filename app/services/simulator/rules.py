"""The rule grammar shared by eligibility rules and question display conditions (docs/domain.md §2).

    leaf:      {"question": "GENERAL_001", "operator": "equals", "value": "Transport et Logistique"}
    combined:  {"operator": "AND" | "OR", "rules": [<rule>, ...]}   (nestable)

Operators: `equals`, `not_equals`, `includes` (a multiple-choice answer contains the value),
`greater_than` (a number answer). An unanswered question fails every leaf, `not_equals` included:
nothing is granted on an answer nobody gave.
"""

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

LEAF_OPERATORS = ("equals", "not_equals", "includes", "greater_than")
COMBINERS = ("AND", "OR")
MAX_DEPTH = 6


def evaluate(rule: dict, answers: dict, numbers: dict | None = None) -> bool:
    """`numbers` holds resolved numeric answers (a bracket label mapped to its midpoint)."""
    op = rule["operator"]
    if op in COMBINERS:
        results = (evaluate(r, answers, numbers) for r in rule["rules"])
        return all(results) if op == "AND" else any(results)
    answer = answers.get(rule["question"])
    if answer is None or answer == [] or answer == "":
        return False
    value = rule["value"]
    if op == "equals":
        return answer == value
    if op == "not_equals":
        return answer != value
    if op == "includes":
        return value in answer if isinstance(answer, list) else answer == value
    number = (numbers or {}).get(rule["question"], answer)
    try:
        return Decimal(str(number)) > Decimal(str(value))
    except InvalidOperation:
        return False


def failing_leaves(rule: dict, answers: dict, numbers: dict | None = None) -> list[dict]:
    """The leaves that make the rule fail, to tell a user why a product does not apply."""
    if evaluate(rule, answers, numbers):
        return []
    if rule["operator"] == "AND":
        return [leaf for r in rule["rules"] for leaf in failing_leaves(r, answers, numbers)]
    if rule["operator"] == "OR":
        return [rule]  # none of the alternatives holds: report the group as a whole
    return [rule]


def leaves(rule: dict) -> list[dict]:
    if rule.get("operator") in COMBINERS:
        return [leaf for r in rule.get("rules", []) for leaf in leaves(r)]
    return [rule]


def problems(rule, questions: dict, depth: int = 0) -> list[str]:
    """Why a rule cannot be saved, in the user's language; [] when it is sound.

    `questions` maps a code to its Question: a reference to an unknown question or to an option
    the question does not offer is refused, since it would silently never match.
    """
    if depth > MAX_DEPTH:
        return [_("Rules may be nested %(n)d levels deep at most.", n=MAX_DEPTH)]
    if not isinstance(rule, dict):
        return [_("Each rule must be an object.")]
    op = rule.get("operator")
    if op in COMBINERS:
        children = rule.get("rules")
        if not isinstance(children, list) or not children:
            return [_("An %(op)s group needs at least one rule.", op=op)]
        return [p for child in children for p in problems(child, questions, depth + 1)]
    if op not in LEAF_OPERATORS:
        return [_("Unknown operator “%(op)s”.", op=op)]
    code = rule.get("question")
    question = questions.get(code)
    if question is None:
        return [_("Unknown question “%(code)s”.", code=code)]
    value = rule.get("value")
    kind = str(question.kind)
    if op == "greater_than":
        if kind != "number":
            return [_("“greater than” needs a number question; %(code)s is not.", code=code)]
        try:
            Decimal(str(value))
        except InvalidOperation:
            return [_("“greater than” needs a number, not “%(value)s”.", value=value)]
        return []
    if kind == "number":
        return [_("%(code)s is a number question: compare it with “greater than”.", code=code)]
    if op == "includes" and kind != "multiple":
        return [_("“includes” needs a multiple-choice question; %(code)s is not.", code=code)]
    if value not in question.options:
        return [_("“%(value)s” is not an option of %(code)s.", value=value, code=code)]
    return []
