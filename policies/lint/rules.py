"""The lint rules: each judges the catalog and the parsed SQL, and lowers a finding's severity
when what it names cannot be reached (no API role holds the privilege that would use it)."""

from __future__ import annotations

from collections.abc import Iterator

from consolidation.policies.lint import parsed
from consolidation.policies.lint.catalog import COMMAND_PRIVILEGES, WRITES, Catalog, Policy
from consolidation.policies.lint.findings import Rule, Severity

Result = Iterator[tuple[Severity, str, str, str]]
ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
AUTH_CALLS = ("auth.uid", "auth.jwt", "auth.role", "auth.email", "current_setting")
STORAGE_OBJECTS = "storage.objects"
# The columns of storage.objects that scope a row to a folder or an owner.
STORAGE_SCOPING = ("name", "owner", "owner_id", "path_tokens", "id")
# The columns storage.objects' own indexes serve: (bucket_id, name), name, and the primary key.
STORAGE_INDEXED = ("name", "id")


def _reach(policy: Policy, catalog: Catalog, privileges: tuple[str, ...]) -> list[str]:
    """The API roles POLICY applies to that hold one of PRIVILEGES on its table."""
    table = catalog.table(policy.table_display)
    return table.reached_by(privileges, policy.api_roles) if table else []


def _roles(roles: list[str]) -> str:
    return ", ".join(roles) or "no API role"


def rls_disabled(catalog: Catalog) -> Result:
    for table in catalog.tables.values():
        if table.exposed and not table.rls and not table.policies:
            reach = table.reached_by(("SELECT", *WRITES))
            yield (
                ERROR if reach else INFO,
                table.display,
                f"row level security is off in an API-exposed schema; {_roles(reach)} may reach every row",
                f"ALTER TABLE {table.display} ENABLE ROW LEVEL SECURITY",
            )


def policies_rls_disabled(catalog: Catalog) -> Result:
    for table in catalog.tables.values():
        if table.policies and not table.rls:
            reach = table.reached_by(("SELECT", *WRITES))
            yield (
                ERROR if reach else WARNING,
                table.display,
                f"{table.policies} policies are ignored because row level security is off; "
                f"{_roles(reach)} may reach every row",
                f"ALTER TABLE {table.display} ENABLE ROW LEVEL SECURITY",
            )


def rls_no_policy(catalog: Catalog) -> Result:
    for table in catalog.tables.values():
        reach = table.reached_by(("SELECT", *WRITES))
        if table.exposed and table.rls and not table.policies and reach:
            yield (
                INFO,
                table.display,
                f"row level security is on with no policy: every query by {_roles(reach)} sees no row",
                ", ".join(f"{role}: {'/'.join(table.privileges[role])}" for role in reach),
            )


def true_on_writes(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        if not policy.permissive or policy.command not in ("ALL", *WRITES):
            continue
        open_parts = [
            part
            for part, tree in (("USING", policy.using_tree), ("WITH CHECK", policy.check_tree))
            if tree is not None and parsed.always_true(tree)
        ]
        if policy.command == "INSERT" and policy.check is None:
            open_parts.append("no WITH CHECK")
        if open_parts:
            reach = _reach(policy, catalog, WRITES if policy.command == "ALL" else (policy.command,))
            yield (
                ERROR if reach else INFO,
                policy.display,
                f"FOR {policy.command} policy admits every row ({' and '.join(open_parts)}) for "
                f"{_roles(reach)}" + ("" if reach else ": the grants refuse these writes already"),
                policy.text,
            )


def select_only(catalog: Catalog) -> Result:
    for table in catalog.tables.values():
        policies = catalog.policies_on(table.display)
        if not (table.rls and policies) or any(p.command != "SELECT" for p in policies):
            continue
        reach = table.reached_by(("INSERT",))
        if reach:
            written = table.display in catalog.chat_tables
            yield (
                WARNING if written else INFO,
                table.display,
                f"only SELECT policies, but {_roles(reach)} may INSERT: inserts fail with "
                '"new row violates row-level security policy"'
                + (" — the app writes to this table" if written else "; nothing leaks"),
                ", ".join(p.name for p in policies),
            )


def missing_with_check(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        if policy.command in ("ALL", "UPDATE") and policy.check is None and policy.using is not None:
            reach = _reach(policy, catalog, ("UPDATE",))
            yield (
                WARNING if reach else INFO,
                policy.display,
                f"FOR {policy.command} policy has no WITH CHECK: a changed row only has to pass USING",
                f"USING ({policy.using})",
            )


def auth_null_bypass(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        if not policy.permissive:
            continue
        calls = sorted({c for tree in policy.trees for c in parsed.null_checks_in_or(tree, AUTH_CALLS)})
        if calls:
            anonymous = "anon" in _reach(policy, catalog, COMMAND_PRIVILEGES[policy.command])
            yield (
                ERROR if anonymous else WARNING,
                policy.display,
                f"{' / '.join(f'{c}() IS NULL' for c in calls)} is one branch of an OR: it is true without a "
                "signed-in user, so that branch admits every row" + (" to anon" if anonymous else ""),
                policy.text,
            )


def auth_per_row(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        calls = sorted({call for tree in policy.trees for call in parsed.per_row_calls(tree, AUTH_CALLS)})
        if calls:
            yield (
                WARNING,
                policy.display,
                f"{', '.join(f'{c}()' for c in calls)} not wrapped in a sub-select: evaluated for every row",
                policy.text,
            )


def multiple_permissive(catalog: Catalog) -> Result:
    groups: dict[tuple[str, str, str], list[Policy]] = {}
    for policy in catalog.policies:
        if not policy.permissive:
            continue
        for role in policy.api_roles:
            for privilege in COMMAND_PRIVILEGES[policy.command]:
                groups.setdefault((policy.table_display, privilege, role), []).append(policy)
    for (table_display, privilege, role), policies in sorted(groups.items()):
        if len(policies) > 1:
            table = catalog.table(table_display)
            reached = bool(table and table.reached_by((privilege,), (role,)))
            yield (
                WARNING if reached else INFO,
                f"{table_display}: {privilege} for {role}",
                f"{len(policies)} permissive policies for {role} on {privilege}",
                ", ".join(sorted(p.name for p in policies)),
            )


def security_definer(catalog: Catalog) -> Result:
    for function in catalog.functions:
        if not function.security_definer or function.trigger_function:
            continue
        if "anon" in function.executable_by or (function.exposed and function.executable_by):
            yield (
                ERROR if function.exposed and "anon" in function.executable_by else WARNING,
                function.display,
                f"SECURITY DEFINER function executable by {_roles(function.executable_by)}"
                + (" through the Data API" if function.exposed else ""),
                "runs with its owner's rights, whatever the caller's policies",
            )


def function_search_path(catalog: Catalog) -> Result:
    for function in catalog.functions:
        if function.search_path is None and (function.security_definer or function.exposed):
            yield (
                ERROR if function.security_definer else WARNING,
                function.display,
                (
                    "SECURITY DEFINER function"
                    if function.security_definer
                    else "function in an API-exposed schema"
                )
                + " without a pinned search_path: a caller's schema can shadow what it calls",
                f"{function.language} function, no SET search_path",
            )


def _rls_tables_read(catalog: Catalog, reads: frozenset[tuple[str, str]]) -> list[str]:
    """The tables with row security among READS (the lint deparses with an empty search_path,
    so every table a definition reads is schema-qualified)."""
    found = (catalog.table_named(schema, name) for schema, name in reads)
    return sorted(table.display for table in found if table and table.rls)


def view_not_security_invoker(catalog: Catalog) -> Result:
    for view in catalog.views:
        if view.security_invoker or not view.selectable_by:
            continue
        protected = _rls_tables_read(catalog, view.reads)
        yield (
            ERROR if protected else WARNING,
            view.display,
            "view runs as its owner (no security_invoker)"
            + (
                f", so the policies of {', '.join(protected)} do not apply to its callers"
                if protected
                else ""
            )
            + f"; selectable by {_roles(view.selectable_by)}",
            f"reads {', '.join(f'{s}.{t}' if s else t for s, t in sorted(view.reads)) or 'no table'}",
        )


def auth_users_exposed(catalog: Catalog) -> Result:
    for view in catalog.views:
        if view.exposed and ("auth", "users") in view.reads:
            # A security-invoker view reads auth.users as its caller: exposed only to roles that may.
            readers = [
                r for r in view.selectable_by if not view.security_invoker or r in catalog.auth_users_readers
            ]
            if readers:
                yield (
                    ERROR,
                    view.display,
                    f"view over auth.users in an API-exposed schema, readable by {_roles(readers)}",
                    "runs as its caller" if view.security_invoker else "runs as its owner",
                )
    for function in catalog.functions:
        if function.exposed and ("auth", "users") in function.reads:
            callers = [
                r
                for r in function.executable_by
                if function.security_definer or r in catalog.auth_users_readers
            ]
            if callers:
                yield (
                    ERROR,
                    function.display,
                    f"function reading auth.users in an API-exposed schema, callable by {_roles(callers)}",
                    "SECURITY DEFINER" if function.security_definer else "SECURITY INVOKER",
                )


def any_array_column(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        columns = sorted({c for tree in policy.trees for c in parsed.array_column_memberships(tree)})
        if columns:
            yield (
                WARNING,
                policy.display,
                f"membership tested as = ANY ({', '.join(columns)}): no index on the array serves it",
                policy.text,
            )


def storage_function_on_name(catalog: Catalog) -> Result:
    reads = [
        p
        for p in catalog.policies
        if p.table_display == STORAGE_OBJECTS and p.command in ("SELECT", "ALL") and p.using_tree is not None
    ]
    for policy in reads:
        tree = policy.using_tree
        if not policy.permissive or tree is None:
            continue
        calls = parsed.wrapping_calls(tree, ("name", "path_tokens"))
        if not calls:
            continue
        # A restrictive policy over the same roles is ANDed with this one: it may narrow instead.
        narrowing = [tree] + [
            p.using_tree
            for p in reads
            if not p.permissive and p.using_tree is not None and set(policy.api_roles) <= set(p.api_roles)
        ]
        buckets = parsed.equalities(tree, "bucket_id") or [None]
        if not all(
            any(
                parsed.narrowed_by_index(t, STORAGE_INDEXED, ("bucket_id", b) if b else None)
                for t in narrowing
            )
            for b in buckets
        ):
            yield (
                WARNING,
                policy.display,
                f"{', '.join(f'{c}()' for c in calls)} applied to the object name on every row: a listing "
                "scans the whole bucket, as no comparison of bare name or id can use the indexes",
                f"USING ({policy.using})",
            )


def user_metadata(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        if any(
            parsed.reads_json_key(tree, "user_metadata", ("raw_user_meta_data",)) for tree in policy.trees
        ):
            yield (
                ERROR,
                policy.display,
                "policy reads user_metadata, which every signed-in user can set for themselves",
                policy.text,
            )


def _bucket_scope(policy: Policy) -> tuple[list[str], bool]:
    """The buckets POLICY names by `bucket_id = '…'` and whether it also scopes rows by a folder
    or an owner (any other storage.objects column it reads)."""
    buckets = sorted({b for tree in policy.trees for b in parsed.equalities(tree, "bucket_id")})
    scoped = any(parsed.row_columns(tree) & set(STORAGE_SCOPING) for tree in policy.trees)
    return buckets, scoped


def bucket_wide_policy(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        if policy.table_display != STORAGE_OBJECTS or not policy.permissive:
            continue
        buckets, scoped = _bucket_scope(policy)
        if scoped:
            continue
        writes = policy.command in ("ALL", *WRITES)
        if not writes and all(catalog.buckets.get(b, False) for b in buckets or [""]):
            continue  # reading a public bucket: public-bucket-listing's concern
        reach = _reach(policy, catalog, WRITES if writes else ("SELECT",))
        where = ", ".join(buckets) if buckets else "every bucket"
        severity = (ERROR if writes else WARNING) if reach else INFO
        yield (
            severity,
            policy.display,
            f"FOR {policy.command} on {where} scoped by neither folder nor owner: {_roles(reach)} "
            + (
                "may read, overwrite, move or delete every user's files"
                if writes
                else "may read every user's files"
            ),
            policy.text,
        )


def public_bucket_listing(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        if (
            policy.table_display != STORAGE_OBJECTS
            or not policy.permissive
            or policy.command not in ("SELECT", "ALL")
        ):
            continue
        buckets, scoped = _bucket_scope(policy)
        for bucket in buckets:
            if catalog.buckets.get(bucket) and not scoped:
                reach = _reach(policy, catalog, ("SELECT",))
                yield (
                    WARNING if reach else INFO,
                    f"bucket {bucket}: {policy.name}",
                    f"public bucket with a bucket-wide SELECT policy: {_roles(reach)} may list every file "
                    "(public URLs need no policy)",
                    policy.text,
                )


def public_role_policy(catalog: Catalog) -> Result:
    for policy in catalog.policies:
        if not policy.permissive or "public" not in policy.roles:
            continue
        table = catalog.table(policy.table_display)
        held = set(table.privileges.get("anon", [])) if table else set()
        governed = set(COMMAND_PRIVILEGES[policy.command]) & held
        if governed:
            writes = sorted(governed & set(WRITES))
            yield (
                ERROR if writes else WARNING,
                policy.display,
                f"FOR {policy.command} policy granted TO PUBLIC reaches anon, which holds "
                f"{', '.join(sorted(governed))}",
                policy.text,
            )


def unparsable(catalog: Catalog) -> Result:
    for item in catalog.unparsed:
        yield (
            WARNING,
            item.display,
            f"{item.part} could not be parsed, so the parsed-SQL rules did not check it",
            item.reason,
        )


RULES = (
    Rule(
        "rls-disabled",
        ERROR,
        "Row level security is off on a table in an API-exposed schema",
        "ALTER TABLE ... ENABLE ROW LEVEL SECURITY and add policies, or revoke the API roles' privileges.",
        rls_disabled,
    ),
    Rule(
        "policies-rls-disabled",
        ERROR,
        "A table has policies but row level security is off",
        "ALTER TABLE ... ENABLE ROW LEVEL SECURITY: until then its policies are ignored.",
        policies_rls_disabled,
    ),
    Rule(
        "rls-no-policy",
        INFO,
        "Row level security is on with no policy while API roles hold privileges",
        "Add the policies the grants imply, or revoke the privileges so the denial is explicit.",
        rls_no_policy,
    ),
    Rule(
        "true-on-writes",
        ERROR,
        "A write policy admits every row (USING / WITH CHECK true)",
        "State who may write which rows, e.g. WITH CHECK (sender_id = (select auth.uid())).",
        true_on_writes,
    ),
    Rule(
        "select-only",
        WARNING,
        "Only SELECT policies while API roles may INSERT: inserts fail",
        "Add INSERT (and UPDATE) policies with WITH CHECK, or revoke INSERT so the denial is explicit.",
        select_only,
    ),
    Rule(
        "missing-with-check",
        WARNING,
        "An UPDATE / ALL policy has no WITH CHECK",
        "Say what a changed row must satisfy in WITH CHECK; otherwise USING is reused.",
        missing_with_check,
    ),
    Rule(
        "auth-null-bypass",
        ERROR,
        "A policy's OR branch tests auth.uid() IS NULL: anonymous callers pass it",
        "Drop the IS NULL branch; give anonymous access its own policy TO anon if it is intended.",
        auth_null_bypass,
    ),
    Rule(
        "auth-per-row",
        WARNING,
        "auth.*() or current_setting() is called per row",
        "Write (select auth.uid()) so the planner evaluates it once per statement.",
        auth_per_row,
    ),
    Rule(
        "multiple-permissive",
        WARNING,
        "Several permissive policies for one role and action",
        "Merge them into one policy per role and action: each is evaluated for every row.",
        multiple_permissive,
    ),
    Rule(
        "security-definer",
        ERROR,
        "A SECURITY DEFINER function is executable by anon, or by signed-in users in an exposed schema",
        "REVOKE EXECUTE ON FUNCTION ... FROM PUBLIC, anon (or make it SECURITY INVOKER, or move it out).",
        security_definer,
    ),
    Rule(
        "function-search-path",
        ERROR,
        "A function's search_path is not pinned",
        "ALTER FUNCTION ... SET search_path = '' and schema-qualify what it calls.",
        function_search_path,
    ),
    Rule(
        "view-not-security-invoker",
        ERROR,
        "A view runs as its owner (SECURITY DEFINER view)",
        "ALTER VIEW ... SET (security_invoker = true) so the tables' policies apply to the caller.",
        view_not_security_invoker,
    ),
    Rule(
        "auth-users-exposed",
        ERROR,
        "auth.users is exposed through a view or function",
        "Move it out of the exposed schema, or select only the caller's row through a revoked function.",
        auth_users_exposed,
    ),
    Rule(
        "any-array-column",
        WARNING,
        "Membership written as = ANY (array column): no index applies",
        "Write column @> ARRAY[value] (or ARRAY[value] <@ column) so a GIN index on the column applies.",
        any_array_column,
    ),
    Rule(
        "storage-function-on-name",
        WARNING,
        "A storage policy applies a function to every object's name",
        "Compare bare name or id (name = ANY (...), a name range) so indexes apply; recheck by function.",
        storage_function_on_name,
    ),
    Rule(
        "user-metadata",
        ERROR,
        "A policy trusts user_metadata, which users edit themselves",
        "Read roles from app_metadata (set by the server) or from a table, never from user_metadata.",
        user_metadata,
    ),
    Rule(
        "public-bucket-listing",
        WARNING,
        "A public bucket has a bucket-wide SELECT policy: anyone can list it",
        "Drop the SELECT policy (public URLs need none), or scope it to a folder if listing is intended.",
        public_bucket_listing,
    ),
    Rule(
        "bucket-wide-policy",
        ERROR,
        "A storage policy is scoped by bucket only, by neither folder nor owner",
        "Scope it by owner (owner_id = (select auth.uid())::text) or by the session or user folder in name.",
        bucket_wide_policy,
    ),
    Rule(
        "public-role-policy",
        ERROR,
        "A permissive policy granted TO PUBLIC reaches anon",
        "Name the roles: TO authenticated (and anon only where anonymous access is intended).",
        public_role_policy,
    ),
    Rule(
        "unparsable-sql",
        WARNING,
        "A policy, view or function could not be parsed",
        "Check the finding's object by hand; the parsed-SQL rules could not judge it.",
        unparsable,
    ),
)
