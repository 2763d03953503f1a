"""Build a large index straight in SQL, for the table, chart and memory benchmarks.

    python benchmarks/bigindex.py OUT.sqlite3 --reports 1000000

Importing a million files would take minutes and measure the importer, not the
viewer, so the rows are made by SQLite itself with the real schema (through
``Index``, so every index and migration is in place): 100 policy domains,
10 reporters, one report per (reporter, domain, day), about 30 % of reports with
one to five failure rows (0.9 failure rows per report on average), sts / tlsa /
no-policy-found policies (a domain publishes one kind; one reporter checks
none), eight result types, realistic MX hosts and sending IPs. The chart
summary tables are then filled as the import writer would have.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tlsrpt_gui.core import report_text, rollups  # noqa: E402
from tlsrpt_gui.core.index import Index  # noqa: E402

RESULTS = (
    "starttls-not-supported", "certificate-expired", "certificate-not-trusted", "validation-failure",
    "sts-policy-fetch-error", "tlsa-invalid", "certificate-host-mismatch", "sts-webpki-invalid",
)  # fmt: skip
DAY0 = 1_704_067_200  # 2024-01-01T00:00:00Z


#: policies with two failure rows of one result type (none here: see build)
DOUBLE_MARKS = ("SELECT COUNT(*) FROM (SELECT 1 FROM failure_details GROUP BY policy_id, result_type "
                "HAVING COUNT(*) > 1)")


def build(path: Path, reports: int) -> dict[str, int]:
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    results = " ".join(f"WHEN {i} THEN '{r}'" for i, r in enumerate(RESULTS))
    with Index(path) as idx:
        c = idx.conn
        c.execute("PRAGMA synchronous = OFF")
        c.execute("BEGIN")
        # report i: reporter i % 10, domain (i // 10) % 100, day i // 1000
        c.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {reports - 1})
            INSERT INTO reports (id, organization_name, report_id, dedupe_key, contact_info, start_ts, end_ts,
                policy_domains, policy_count, successful_sessions, failed_sessions, failure_detail_count,
                diagnostic_count, worst_severity, source_path, source_member, imported_at)
            SELECT i + 1, 'Reporter ' || (i % 10), 'rid-' || i, 'rid-' || i, 'tlsrpt@reporter' || (i % 10) || '.example',
                {DAY0} + (i / 1000) * 86400, {DAY0} + (i / 1000) * 86400 + 86399,
                'd' || ((i / 10) % 100) || '.example', 1, 50 + (i * 7919) % 5000,
                CASE WHEN (i * 2654435761) % 1000003 % 10 < 3 THEN 1 + (i * 40503) % 40 ELSE 0 END,
                CASE WHEN (i * 2654435761) % 1000003 % 10 < 3 THEN 1 + (i * 31) % 5 ELSE 0 END,
                i % 3, CASE WHEN i % 3 = 0 THEN NULL ELSE 'info' END,
                '/reports/r' || i || '.json.gz', '', {DAY0} FROM n"""
        )
        c.execute(
            """INSERT INTO policies (id, report_id, idx, policy_type, policy_domain, policy_domain_source,
                policy_strings, mx_hosts, sts_mode, successful_sessions, failed_sessions, organization_name,
                start_ts, end_ts, failure_detail_count)
            SELECT id, id, 0, kind, policy_domains, 'report',
                CASE kind WHEN 'tlsa' THEN '["3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"]'
                    WHEN 'no-policy-found' THEN '[]'
                    ELSE '["version: STSv1","mode: ' || mode || '","mx: *.' || policy_domains || '","max_age: 604800"]' END,
                '["*.' || policy_domains || '"]',
                CASE kind WHEN 'sts' THEN mode END,
                successful_sessions, failed_sessions, organization_name, start_ts, end_ts, failure_detail_count
            FROM (
                -- a domain publishes DANE (one in five) or MTA-STS (one in seven of those
                -- in testing mode); reporter 9 checks neither and says no-policy-found
                SELECT *, CASE WHEN (id - 1) % 10 = 9 THEN 'no-policy-found'
                               WHEN ((id - 1) / 10) % 100 % 5 = 0 THEN 'tlsa' ELSE 'sts' END AS kind,
                          CASE WHEN ((id - 1) / 10) % 100 % 7 = 0 THEN 'testing' ELSE 'enforce' END AS mode
                FROM reports
            )"""
        )
        c.execute(
            f"""WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < 4)
            INSERT INTO failure_details (report_id, policy_id, result_type, sending_mta_ip, receiving_mx_hostname,
                receiving_mx_helo, receiving_ip, failed_session_count, failure_reason_code, additional_information,
                policy_domain, policy_type, organization_name, start_ts, sts_mode, policy_successful, policy_failed,
                first_of_type)
            SELECT r.id, r.id, CASE (r.id + k.j) % 8 {results} END,
                '192.0.2.' || ((r.id * 13 + k.j) % 250), 'mx' || (k.j % 3) || '.' || r.policy_domains,
                NULL, '203.0.113.' || (k.j % 3), 1 + (r.id + k.j) % 9,
                CASE WHEN (r.id + k.j) % 8 = 3 THEN 'X509_V_ERR_CERT_HAS_EXPIRED' END, NULL,
                r.policy_domains, p.policy_type, r.organization_name, r.start_ts,
                p.sts_mode, p.successful_sessions, p.failed_sessions, 1
            FROM reports r JOIN policies p ON p.id = r.id JOIN k ON k.j < r.failure_detail_count
            WHERE r.failure_detail_count > 0"""
        )
        # Each row is the first of its result type in its policy (a policy's up to five
        # rows have five of the eight types), marked as the import writer marks them, in
        # the insert: marked by an UPDATE afterwards, each row grew and moved, and walks
        # through the table in index order read it a third slower.
        if c.execute(DOUBLE_MARKS).fetchone()[0]:
            raise AssertionError("a policy has two failure rows of one result type")
        c.execute("COMMIT")
        c.execute("BEGIN")
        rollups.rebuild(c)  # the chart summaries the import writer keeps
        if report_text.exists(c):  # and the trigram index of report ids and sources
            c.execute(report_text.FILL)
        c.execute("COMMIT")
        # (no ANALYZE: the app never runs it, so the indexes users have hold no statistics,
        # and with them SQLite chose other plans here than it does there)
        counts = {
            "reports": c.execute("SELECT COUNT(*) FROM reports").fetchone()[0],
            "failure_details": c.execute("SELECT COUNT(*) FROM failure_details").fetchone()[0],
        }
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description="Build a large synthetic index in SQL.")
    ap.add_argument("out", type=Path)
    ap.add_argument("--reports", type=int, default=1_000_000)
    args = ap.parse_args()
    t = time.perf_counter()
    counts = build(args.out, args.reports)
    print(f"{args.out}: {counts} in {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
