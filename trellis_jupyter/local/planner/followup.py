"""Follow-up questions: "now by month", "only the East region", "as a pie chart", "top 3 instead",
"what about last year?", "and the average?" change the previous answer's plan.

A question is a follow-up when it names no table or measure of its own (or starts with a cue such as
"what about" and names just one of them) and there is a previous plan in the chat. The previous
plan comes from the stored ``PastTurn.state``, so this works after a server restart too.
"""

from __future__ import annotations

import copy
from datetime import date

from trellis_jupyter.local.planner.build import (
    Unanswerable,
    _dated_parent,
    apply_common,
    apply_unit,
    check_honoured,
    check_joins,
    check_understood,
    choose_date,
    fix_filters,
    reach_groups,
)
from trellis_jupyter.local.planner.lexicon import PRICE_HINTS, STOPWORDS, words_of
from trellis_jupyter.local.planner.parse import Parsed
from trellis_jupyter.local.planner.plan import LABEL, Plan
from trellis_jupyter.local.planner.resolve import tables_named
from trellis_jupyter.local.planner.schema import Schema

__all__ = ["is_followup", "merge"]


def is_followup(parsed: Parsed, previous: Plan | None, schema: Schema) -> bool:
    if previous is None:
        return False
    own = parsed.measure is not None or bool(parsed.entities) or _stands_alone(parsed, previous, schema)
    if not own:
        return True
    if parsed.cue and not (parsed.measure is not None and parsed.entities) and not parsed.listing:
        return previous.kind == "aggregate"
    return False


def _stands_alone(parsed: Parsed, previous: Plan, schema: Schema) -> bool:
    """A question with no measure and no table of its own that still asks something whole.

    Read as follow-ups, these gave confident wrong answers after an unrelated question:
    - rows of a table it names, picked by a condition or a period ("which products are
      discontinued", "products priced over 50 dollars", "which orders were placed in 2030",
      "which employees report to Andrew Fuller?");
    - what there is ("which regions are there?", "what ratings are there?");
    - which value is used most ("which payment method is used most often?");
    - how many of a thing it names, with a condition ("how many bills were over 30 dollars?");
    - a list it asks for by name ("list the payment methods").
    Still follow-ups: any question with a cue ("and", "now", "only"...), "which customers?" (no
    condition), and a fragment with a condition on the rows the previous answer was split by
    ("orders by customer", then "which customers in Germany?").
    """
    words = parsed.words
    if parsed.cue or not words:
        return False
    named = set(tables_named(schema, words))
    if (parsed.which or parsed.listing_cue) and words[-2:] in (["are", "there"], ["is", "there"]):
        return True
    if parsed.which and parsed.popular:
        return True
    if (
        words[0] in _LIST_VERBS
        and (named or parsed.groups)
        and not parsed.chart_asked
        and not _POINTERS.intersection(words)
    ):
        return True  # "list the payment methods", not "show that as a chart"
    condition = bool(parsed.filters or parsed.range or parsed.parent_filters)
    if condition and words[:2] == ["how", "many"] and len(words) > 2 and _names_a_thing(words[2]):
        return True  # "how many bills were over 30 dollars?", not "how many in 2017?"
    asks = parsed.listing_cue or parsed.which or bool(tables_named(schema, words[:1]))
    if not (asks and condition and named):
        return False
    # A fragment on the rows the previous answer was split by narrows it: "orders by customer",
    # then "which customers in Germany?". With a verb it is a question of its own: "the 5
    # best-selling products", then "which products cost less than 10?".
    split_by = {g.split(".")[0] for g in previous.groups if g.endswith(".@label")}
    fragment = not _VERBS.intersection(words)
    return not (fragment and named & split_by and previous.table not in named)


def _names_a_thing(word: str) -> bool:
    return word.isalpha() and word not in STOPWORDS and word not in _POINTERS


_LIST_VERBS = frozenset({"list", "show", "display", "give", "get", "find", "see", "fetch", "select"})
_POINTERS = frozenset({"that", "it", "them", "those", "these", "this", "ones"})
# The verbs that make a question whole, as opposed to a fragment ("which customers in Germany?").
_VERBS = frozenset({"is", "are", "was", "were", "cost", "costs", "have", "has", "had", "do", "does", "did"})


_GRAIN_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}


def _within_one(start: str | None, end: str | None, grain: str | None) -> bool:
    """True when the range [start, end) fits in one bucket of ``grain`` (a one-point series)."""
    if not (start and end and grain in _GRAIN_DAYS):
        return False
    days = (date.fromisoformat(end[:10]) - date.fromisoformat(start[:10])).days
    return days <= _GRAIN_DAYS[grain]


def merge(schema: Schema, previous: Plan, parsed: Parsed) -> Plan:
    """The previous plan with this follow-up's changes."""
    check_understood(parsed)
    plan = copy.deepcopy(previous)
    changed = False
    kept = schema.measure(previous.measure) if previous.measure else None
    if parsed.price_ranked and kept is not None and set(words_of(kept.header)) & PRICE_HINTS:
        parsed.measure = kept  # "and the most expensive?" ranks by the price already asked about
    if parsed.measure is not None:
        plan.kind = "aggregate"
        plan.measure = parsed.measure.key
        plan.unit = plan.divisor = None  # a unit asked for the previous measure is not this one's
        if parsed.measure.table != plan.table:
            plan.table = parsed.measure.table
            plan.date = None
        if parsed.agg and parsed.agg != "count":
            plan.agg = parsed.agg
        elif previous.measure is not None and previous.agg in ("avg", "min", "max"):
            plan.agg = previous.agg  # "average length by rating" then "what about the replacement cost?"
        else:
            plan.agg = parsed.measure.default_agg
        plan.per = None
        changed = True
    elif parsed.entities:
        entity = parsed.entities[0]
        # "now only customers in the USA": the table names what the filter is about; the measure
        # and the counted rows of the previous answer stay.
        about_filter = bool(parsed.filters) and all(f.column.split(".")[0] == entity for f in parsed.filters)
        if entity != plan.table and not about_filter:
            plan.table, plan.measure, plan.agg, plan.per, plan.date = entity, None, "count", None, None
            changed = True
    if parsed.agg and parsed.measure is None:
        changed = True
        if parsed.agg == "count":
            plan.measure, plan.agg, plan.per = None, "count", None
        elif plan.measure is None:
            raise Unanswerable(
                f"The previous answer counted {plan.table}; I do not know what to take the "
                f"{ {'sum': 'total', 'avg': 'average', 'min': 'minimum', 'max': 'maximum'}[parsed.agg] } of. "
                'Name a number column, for example "the average price".'
            )
        else:
            plan.agg = parsed.agg
            measure = schema.measure(plan.measure)
            plan.per = (
                _dated_parent(schema, plan.table)
                if parsed.agg == "avg" and measure and measure.derived
                else None
            )
        if plan.kind == "list":
            plan.kind = "aggregate"
    if parsed.groups:
        labels = [g for g in parsed.groups]
        plan.groups = [*plan.groups, *labels] if parsed.add_group else labels
        plan.groups = list(dict.fromkeys(plan.groups))[:2]
        if not parsed.grain and not parsed.add_group:
            plan.grain = None
        if plan.kind == "list":
            plan.kind, plan.measure, plan.agg = "aggregate", None, "count"
        changed = True
    if parsed.grain or parsed.over_time:
        if not parsed.add_group and not parsed.groups:
            # "now by month": the time bucket replaces the grouping, unless it was a ranking of rows.
            plan.groups = [g for g in plan.groups if g.endswith(LABEL)] if plan.order else []
            if plan.groups and not plan.order:
                plan.groups = []
        if plan.kind == "list":
            plan.kind, plan.measure, plan.agg = "aggregate", None, "count"
        plan.order = None if not parsed.order else plan.order
        plan.limit = None if not parsed.limit else plan.limit
        plan.grain = parsed.grain
        if parsed.range is None and _within_one(plan.start, plan.end, plan.grain):
            # "now by month" after "... last month": a series of one bucket says nothing, so the
            # inherited range is dropped and the series covers all the data.
            plan.start = plan.end = plan.range_label = None
        changed = True
    if parsed.filters:
        named = parsed.entities[0] if parsed.entities else None
        about_named = named is not None and all(f.column.split(".")[0] == named for f in parsed.filters)
        for new in parsed.filters if about_named else fix_filters(schema, parsed, plan.table):
            # Keep filters on other columns ("only the East region" after "for cancelled orders").
            plan.filters = [f for f in plan.filters if f.column != new.column]
            plan.filters.append(new)
        changed = True
    if parsed.order or parsed.limit:
        plan.order = parsed.order or plan.order or "desc"
        plan.limit = parsed.limit or plan.limit
        if plan.kind == "aggregate" and not plan.groups and not plan.grain:
            raise Unanswerable("The previous answer was a single number, so there is nothing to rank.")
        changed = True
    if parsed.recent and plan.kind == "list":
        plan.order = parsed.recent
        changed = True
    if parsed.range is not None or parsed.chart_asked:
        changed = True
    if plan.date and plan.date.split(".")[0] not in schema.tables:
        plan.date = None
    if plan.date is None and (plan.grain or plan.start or plan.end or parsed.range):
        plan.date = choose_date(schema, plan.table, parsed.entities)
    if not changed:
        raise Unanswerable("I could not tell what to change in the previous answer.")
    if parsed.grain is None and parsed.over_time:
        plan.grain = None
    reach_groups(schema, plan, parsed)  # "and by sex?" of titanic rows: titanic's sex
    apply_common(schema, plan, parsed)
    apply_unit(plan, parsed)
    plan.notes = list(parsed.notes)
    check_honoured(schema, parsed, plan)
    check_joins(schema, plan)  # a plan its rows cannot join is declined, not run into an error
    return plan
