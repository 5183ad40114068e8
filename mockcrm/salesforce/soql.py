"""The SOQL engine of the mock Salesforce server: a pure parser and evaluator.

Public interface (the rest of the mock imports only from here)::

    query = parse_soql("SELECT Id, Name FROM Contact WHERE Name LIKE 'a%' ORDER BY Name LIMIT 10")
    result = execute(query, records, fields)      # fields: {lower-case name: FieldInfo}
    result.total_size, result.rows                # rows projected to the selected canonical names

Both raise :class:`SoqlError` (and nothing else) for bad input; ``error_code``/``message`` are what
Salesforce would put in its 400 body (MALFORMED_QUERY, INVALID_FIELD, INVALID_QUERY_FILTER_OPERATOR,
NUMBER_OUTSIDE_VALID_RANGE). ``query.is_count`` (``COUNT()``: totalSize only) and ``query.is_aggregate``
(``COUNT(field)``: AggregateResult rows) tell the server how to shape the response.

For the change-stream query (``WHERE SystemModstamp > … ORDER BY SystemModstamp, Id LIMIT n``) on big
tables: :func:`lower_bound` gives the bound to start a datetime index at, and
``execute(..., presorted_by="systemmodstamp")`` stops reading once the page is settled when the
records arrive in that index's order. ``execute(..., now=clock.now())`` anchors TODAY, LAST_N_DAYS:n…

The implementation is split into soql_lexer (tokens, SoqlError), soql_parser (grammar), soql_ast
(syntax tree), soql_values (typed comparison keys, FieldInfo), soql_match (per-record predicates),
soql_order (ORDER BY) and soql_eval (compiling, projection, paging).
"""

from __future__ import annotations

from mockcrm.salesforce.soql_ast import SoqlQuery
from mockcrm.salesforce.soql_eval import QueryResult, execute, lower_bound
from mockcrm.salesforce.soql_lexer import MAX_QUERY_LENGTH, SoqlError
from mockcrm.salesforce.soql_match import like_matcher
from mockcrm.salesforce.soql_parser import MAX_OFFSET, parse_soql
from mockcrm.salesforce.soql_values import FieldInfo, canonical_id, format_instant

__all__ = [
    "MAX_OFFSET",
    "MAX_QUERY_LENGTH",
    "FieldInfo",
    "QueryResult",
    "SoqlError",
    "SoqlQuery",
    "canonical_id",
    "execute",
    "format_instant",
    "like_matcher",
    "lower_bound",
    "parse_soql",
]
