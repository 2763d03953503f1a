"""Build a large synthetic index straight in SQL (for the responsiveness tests)."""

from __future__ import annotations

import math
from pathlib import Path

from tlsrpt_gui.core import report_text, rollups
from tlsrpt_gui.core.index import Index

_RESULTS = (
    "starttls-not-supported", "certificate-expired", "certificate-not-trusted", "validation-failure",
    "sts-policy-fetch-error", "tlsa-invalid", "dnssec-invalid", "certificate-host-mismatch",
)  # fmt: skip


def build_big_index(path: Path, failures: int, reports: int = 10_000) -> None:
    """``reports`` reports of one policy each, and ``failures`` failure rows spread over them."""
    with Index(path) as idx:
        c = idx.conn
        c.execute("BEGIN")
        c.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {reports})
            INSERT INTO reports (id, organization_name, report_id, dedupe_key, contact_info, start_ts, end_ts,
                policy_domains, policy_count, successful_sessions, failed_sessions, failure_detail_count,
                diagnostic_count, worst_severity, source_path, source_member, imported_at)
            SELECT i, 'org' || (i % 37) || '.example', 'rid-' || i, 'rid-' || i, NULL,
                1600000000 + i * 3600, 1600000000 + i * 3600 + 86399,
                'dom' || (i % 101) || '.example', 1, (i * 7919) % 100000, (i * 104729) % 1000,
                {failures // reports}, i % 3, CASE WHEN i % 3 = 0 THEN NULL ELSE 'warning' END,
                '/data/r' || i || '.json', '', 0 FROM n"""
        )
        c.execute(
            """INSERT INTO policies (id, report_id, idx, policy_type, policy_domain, policy_domain_source,
                policy_strings, mx_hosts, sts_mode, successful_sessions, failed_sessions, organization_name,
                start_ts, end_ts, failure_detail_count)
            SELECT id, id, 0, CASE WHEN id % 2 THEN 'sts' ELSE 'tlsa' END, policy_domains, 'report',
                '["version: STSv1","mode: enforce"]', '["mx' || (id % 5) || '.example"]',
                CASE WHEN id % 2 THEN 'enforce' ELSE NULL END, successful_sessions, failed_sessions,
                organization_name, start_ts, end_ts, failure_detail_count FROM reports"""
        )
        results = " ".join(f"WHEN {i} THEN '{r}'" for i, r in enumerate(_RESULTS))
        # Row i has policy i % reports and result type i % len(_RESULTS): the pairs repeat
        # every lcm rows, so the first row of each type in its policy is among the first
        # lcm, marked in the insert as the import writer marks it (an UPDATE afterwards
        # grew and moved every row, and walks in index order read the table more slowly).
        period = math.lcm(reports, len(_RESULTS))
        c.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {failures})
            INSERT INTO failure_details (id, report_id, policy_id, result_type, sending_mta_ip,
                receiving_mx_hostname, receiving_mx_helo, receiving_ip, failed_session_count,
                failure_reason_code, additional_information, policy_domain, policy_type,
                organization_name, start_ts, sts_mode, policy_successful, policy_failed, first_of_type)
            SELECT i, 1 + i % {reports}, 1 + i % {reports}, CASE i % {len(_RESULTS)} {results} END,
                '192.0.2.' || (i % 250), 'mx' || (i % 13) || '.dom' || (i % 101) || '.example',
                CASE WHEN i % 4 = 0 THEN NULL ELSE 'helo' || (i % 17) || '.example' END,
                CASE WHEN i % 5 = 0 THEN NULL ELSE '198.51.100.' || (i % 199) END,
                1 + (i * 31) % 500, CASE WHEN i % 3 = 0 THEN NULL ELSE 'code-' || (i % 23) END,
                CASE WHEN i % 7 = 0 THEN NULL ELSE 'info ' || (i % 1009) END,
                'dom' || ((1 + i % {reports}) % 101) || '.example',
                CASE WHEN (1 + i % {reports}) % 2 THEN 'sts' ELSE 'tlsa' END,
                'org' || ((1 + i % {reports}) % 37) || '.example',
                1600000000 + (1 + i % {reports}) * 3600,
                CASE WHEN (1 + i % {reports}) % 2 THEN 'enforce' END,
                ((1 + i % {reports}) * 7919) % 100000, ((1 + i % {reports}) * 104729) % 1000,
                CASE WHEN i <= {period} THEN 1 END FROM n"""
        )
        rollups.rebuild(c)  # the summaries the import writer keeps
        if report_text.exists(c):  # and the trigram index of report ids and sources
            c.execute(report_text.FILL)
        c.execute("COMMIT")
