"""SOQL recursive-descent parser: text -> SoqlQuery (a syntax tree; names are resolved at execute time)."""

from __future__ import annotations

from mockcrm.salesforce.soql_ast import (
    BoolOp,
    Compare,
    Condition,
    CountAll,
    CountField,
    FieldRef,
    FieldsMacro,
    Includes,
    InList,
    Like,
    Literal,
    Not,
    OrderItem,
    SelectItem,
    SoqlQuery,
)
from mockcrm.salesforce.soql_lexer import (
    DATE,
    DATETIME,
    EOF,
    IDENT,
    NUMBER,
    PUNCT,
    STRING,
    SoqlError,
    Token,
    malformed,
    positioned,
    tokenize,
)

MAX_OFFSET = 2000
# Bounds recursion on inputs like "((((((…": deeper nesting is rejected, not a RecursionError.
MAX_NESTING = 64

# Relative date literals (bonus): those taking ``:n`` are listed separately.
DATE_LITERALS = frozenset(
    {
        "TODAY", "YESTERDAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
        "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR",
    }
)  # fmt: skip
DATE_N_LITERALS = frozenset({"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS"})

COMPARISONS = frozenset({"=", "!=", "<>", "<", "<=", ">", ">="})


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.alias: str | None = None
        self.sobject = ""

    # -- token helpers ---------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != EOF:
            self.i += 1
        return tok

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        shown = "<EOF>" if tok.kind == EOF else f"'{tok.text}'"
        return malformed(self.text, tok.pos, f"unexpected token: {shown}")

    def is_kw(self, *words: str) -> bool:
        return self.tok.kind == IDENT and self.tok.value.upper() in words

    def expect_kw(self, *words: str) -> Token:
        if not self.is_kw(*words):
            raise self.unexpected()
        return self.advance()

    def is_punct(self, p: str) -> bool:
        return self.tok.kind == PUNCT and self.tok.value == p

    def expect_punct(self, p: str) -> Token:
        if not self.is_punct(p):
            raise self.unexpected()
        return self.advance()

    # -- grammar ---------------------------------------------------------------------------------
    def parse(self) -> SoqlQuery:
        self.expect_kw("SELECT")
        # Field names may carry the object name or alias as prefix; both are known only after FROM,
        # so remember the raw select tokens and resolve prefixes afterwards.
        raw_select = self.select_list()
        self.expect_kw("FROM")
        if self.tok.kind != IDENT or "." in self.tok.value:
            raise self.unexpected()
        sob = self.advance()
        self.sobject = sob.value
        if self.tok.kind == IDENT and not self.is_kw(
            "WHERE", "ORDER", "LIMIT", "OFFSET", "WITH", "GROUP", "HAVING", "FOR", "USING"
        ):
            self.alias = self.advance().value
        select = tuple(self.fix_select(item) for item in raw_select)
        # Clauses that change nothing in a single-user mock are accepted and ignored.
        if self.is_kw("USING"):
            self.advance()
            self.expect_kw("SCOPE")
            self.expect_kw("EVERYTHING", "MINE", "MINE_AND_MY_GROUPS", "TEAM", "MY_TERRITORY", "DELEGATED")
        where = None
        if self.is_kw("WHERE"):
            self.advance()
            where = self.condition(0)
        if self.is_kw("WITH"):
            self.advance()
            self.expect_kw("SECURITY_ENFORCED", "USER_MODE", "SYSTEM_MODE")
        order: tuple[OrderItem, ...] = ()
        if self.is_kw("ORDER"):
            self.advance()
            self.expect_kw("BY")
            order = self.order_list()
        limit = None
        if self.is_kw("LIMIT"):
            self.advance()
            limit = self.integer()
        offset = 0
        if self.is_kw("OFFSET"):
            self.advance()
            tok = self.tok
            offset = self.integer()
            if offset > MAX_OFFSET:
                raise SoqlError(
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    positioned(self.text, tok.pos, f"Maximum SOQL offset allowed is {MAX_OFFSET}"),
                )
        if self.is_kw("FOR"):
            self.advance()
            self.expect_kw("VIEW", "REFERENCE", "UPDATE")
        if self.tok.kind != EOF:
            raise self.unexpected()
        return SoqlQuery(self.text, select, sob.value, sob.pos, where, order, limit, offset)

    def select_list(self) -> list[Token | SelectItem]:
        items: list[Token | SelectItem] = []
        while True:
            if self.is_kw("COUNT") and self.tokens[self.i + 1].value == "(":
                start = self.advance()
                self.advance()
                if self.is_punct(")"):
                    self.advance()
                    items.append(CountAll(start.pos))
                else:
                    if self.tok.kind != IDENT:
                        raise self.unexpected()
                    field_tok = self.advance()
                    self.expect_punct(")")
                    alias = None
                    if self.tok.kind == IDENT and not self.is_kw("FROM"):
                        alias = self.advance().value
                    items.append(CountField(FieldRef(field_tok.value, field_tok.pos), alias))
            elif self.is_kw("FIELDS") and self.tokens[self.i + 1].value == "(":
                start = self.advance()
                self.advance()
                kind = self.expect_kw("ALL", "STANDARD", "CUSTOM").value.upper()
                self.expect_punct(")")
                items.append(FieldsMacro(kind, start.pos))
            elif self.tok.kind == IDENT and not self.is_kw("FROM"):
                items.append(self.advance())
            else:
                raise self.unexpected()
            if not self.is_punct(","):
                break
            self.advance()
        if any(isinstance(item, CountAll) for item in items) and len(items) > 1:
            first = items[1] if isinstance(items[0], CountAll) else items[0]
            pos = first.field.pos if isinstance(first, CountField) else first.pos
            raise malformed(self.text, pos, "COUNT() must be the only element in the SELECT list.")
        return items

    def fix_select(self, item: Token | SelectItem) -> SelectItem:
        if isinstance(item, Token):
            return self.field_ref(item)
        if isinstance(item, CountField):
            return CountField(self.strip_prefix(item.field), item.alias)
        return item

    def strip_prefix(self, ref: FieldRef) -> FieldRef:
        head, dot, rest = ref.name.partition(".")
        if dot and head.lower() in {self.sobject.lower(), (self.alias or "").lower()}:
            return FieldRef(rest, ref.pos + len(head) + 1)
        return ref

    def field_ref(self, tok: Token) -> FieldRef:
        if tok.kind != IDENT:
            raise self.unexpected(tok)
        return self.strip_prefix(FieldRef(tok.value, tok.pos))

    def condition(self, depth: int) -> Condition:
        first = self.unary(depth)
        if not self.is_kw("AND", "OR"):
            return first
        # SOQL needs parentheses to mix AND and OR: "a AND b OR c" is a syntax error.
        op = self.tok.value.upper()
        items = [first]
        while self.is_kw(op):
            self.advance()
            items.append(self.unary(depth))
        if self.is_kw("AND", "OR"):
            raise self.unexpected()
        return BoolOp(op, tuple(items))

    def unary(self, depth: int) -> Condition:
        if depth > MAX_NESTING:
            raise malformed(self.text, self.tok.pos, "Query is too complicated (nesting too deep)")
        if self.is_kw("NOT"):
            self.advance()
            return Not(self.unary(depth + 1))
        if self.is_punct("("):
            self.advance()
            inner = self.condition(depth + 1)
            self.expect_punct(")")
            return inner
        return self.simple()

    def simple(self) -> Condition:
        field = self.field_ref(self.advance())
        tok = self.tok
        if tok.kind == PUNCT and tok.value in COMPARISONS:
            self.advance()
            op = "!=" if tok.value == "<>" else tok.value
            return Compare(field, op, self.literal())
        if self.is_kw("LIKE"):
            self.advance()
            pattern = self.literal()
            if pattern.kind != "string":
                raise malformed(self.text, pattern.pos, "LIKE operator requires a string value")
            return Like(field, pattern)
        if self.is_kw("INCLUDES", "EXCLUDES"):
            negated = self.advance().value.upper() == "EXCLUDES"
            return Includes(field, self.literal_list(), negated)
        negated = False
        if self.is_kw("NOT"):
            self.advance()
            negated = True
            if not self.is_kw("IN"):
                raise self.unexpected()
        if self.is_kw("IN"):
            self.advance()
            return InList(field, self.literal_list(), negated)
        raise self.unexpected()

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        values = [self.literal()]
        while self.is_punct(","):
            self.advance()
            values.append(self.literal())
        self.expect_punct(")")
        return tuple(values)

    def literal(self) -> Literal:
        tok = self.advance()
        if tok.kind == STRING:
            return Literal("string", tok.value, tok.pos, wildcards=tok.wildcards)
        if tok.kind == NUMBER:
            return Literal("number", tok.value, tok.pos)
        if tok.kind == DATETIME:
            return Literal("datetime", tok.value, tok.pos)
        if tok.kind == DATE:
            return Literal("date", tok.value, tok.pos)
        if tok.kind == IDENT:
            word = tok.value.upper()
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word, tok.pos)
            if word == "NULL":
                return Literal("null", word, tok.pos)
            if word in DATE_LITERALS:
                return Literal("dateliteral", word, tok.pos)
            if word in DATE_N_LITERALS:
                self.expect_punct(":")
                return Literal("dateliteral", word, tok.pos, n=self.integer())
        raise self.unexpected(tok)

    def integer(self) -> int:
        tok = self.advance()
        if tok.kind != NUMBER or not tok.value.isdigit():
            raise self.unexpected(tok)
        # Python refuses int() of > 4300 digits; anything that long is out of range anyway.
        if len(tok.value) > 18:
            raise SoqlError(
                "NUMBER_OUTSIDE_VALID_RANGE", positioned(self.text, tok.pos, f"invalid number: {tok.value}")
            )
        return int(tok.value)

    def order_list(self) -> tuple[OrderItem, ...]:
        items: list[OrderItem] = []
        while True:
            field = self.field_ref(self.advance())
            descending = False
            if self.is_kw("ASC", "DESC"):
                descending = self.advance().value.upper() == "DESC"
            # Salesforce's defaults: ASC puts nulls first, DESC puts them last.
            nulls_first = not descending
            if self.is_kw("NULLS"):
                self.advance()
                if not self.is_kw("FIRST", "LAST"):
                    raise self.unexpected()
                nulls_first = self.advance().value.upper() == "FIRST"
            items.append(OrderItem(field, descending, nulls_first))
            if not self.is_punct(","):
                return tuple(items)
            self.advance()


def parse_soql(text: str) -> SoqlQuery:
    """Parse a SOQL statement; raises SoqlError (MALFORMED_QUERY, NUMBER_OUTSIDE_VALID_RANGE)."""
    if not isinstance(text, str):
        raise SoqlError("MALFORMED_QUERY", "unexpected token: <EOF>")
    return _Parser(text).parse()
