"""What field encryption, blind indexes, the keyed audit chain and key rotation cost.

    python bench/crypto.py [--households 5000] [--keep]

Without a database: SM4-GCM encryption and decryption of an ID number, a step's form data and a
1 KB note; an HMAC-SM3 blind index; the keyed hash of an audit event against the first release's
SHA-256. With PostgreSQL (JIUZHU_BENCH_PG, default the local server; database ``jiuzhu_bench_crypto``):
``--households`` households of four members each, every personal value encrypted, seeded with SQL;
then ``flask keys rotate`` to a new field key (values a second), ``keys rotate --blind-index``, and
``audit verify`` of a chain of as many events.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import timeit

from sqlalchemy import text
from support import bench_database


def per_call_us(fn, n: int = 20000) -> float:
    fn()
    return min(timeit.repeat(fn, number=n, repeat=3)) / n * 1e6


def micro():
    from jiuzhu.audit.canonical import canonical
    from jiuzhu.crypto import blindindex
    from jiuzhu.crypto.cipher import associated_data, decrypt_text, encrypt_text, hmac_sm3
    from jiuzhu.crypto.keys import generate_document, parse_keyring

    keys = parse_keyring(generate_document(), "bench")
    aad = associated_data("household_members.id_number", 1)
    number = b"34102119680312001X"
    data = json.dumps({"investigators": ["马文静", "杨学军"], "visited_on": "2026-05-06",
                       "findings": "户主重病，儿子重度残疾，妻子务工，收入低。", "doubt": False},
                      ensure_ascii=False).encode()
    note = ("家庭成员患有慢性病，长期服药，月医疗支出约 800 元。" * 30).encode()[:1024]
    print("per value, one core (µs):                 encrypt   decrypt   stored size")
    for label, value in (("ID number (18 B)", number), (f"step form data ({len(data)} B)", data),
                         ("note (1 KiB)", note)):
        token = encrypt_text(keys.field, value, aad)
        enc = per_call_us(lambda v=value: encrypt_text(keys.field, v, aad))
        dec = per_call_us(lambda t=token: decrypt_text(keys.field, t, aad))
        print(f"  {label:<28} {enc:10.1f} {dec:9.1f}   {len(token):5d} chars")
    bidx = per_call_us(lambda: blindindex.compute(keys.blind_index, "id_number", "34102119680312001X"))
    print(f"  blind index (HMAC-SM3)       {bidx:10.1f}")
    event = canonical({"tenant_id": 1, "seq": 1, "at": "2026-01-01T00:00:00.000000Z", "actor_id": 3,
                       "actor_name": "汪某（xt-staff）", "actor_role": "township_staff", "entity_type": "case",
                       "entity_id": "7", "action": "outcome:done", "before": None,
                       "after": json.loads(data), "reason": "入户调查完成", "case_id": 7}).encode() + b"0" * 64
    key = keys.audit.active()[1]
    keyed = per_call_us(lambda: hmac_sm3(key, event))
    plain = per_call_us(lambda: hashlib.sha256(event).hexdigest())
    print(f"  audit event hash: HMAC-SM3 {keyed:.1f} µs, first release's SHA-256 {plain:.1f} µs")


def with_database(households: int, keep: bool):
    from flask_migrate import upgrade

    from jiuzhu import create_app
    from jiuzhu.audit import record
    from jiuzhu.crypto import blindindex
    from jiuzhu.crypto.keys import add_key, read_key_file, write_key_file
    from jiuzhu.crypto.types import keyring
    from jiuzhu.db import Base
    from jiuzhu.extensions import db
    from jiuzhu.tenancy.context import Scope, use_scope
    from jiuzhu.tenancy.services import add_org_unit, county_root, create_tenant

    owner = bench_database("jiuzhu_bench_crypto", keep=keep)
    import os

    keys_file = os.environ["JIUZHU_KEYS_FILE"]
    app = create_app()
    tables = Base.metadata.tables
    with app.app_context():
        if not keep:
            upgrade()
            t0 = time.perf_counter()
            with use_scope(Scope.platform()):
                tid = create_tenant(db.session, app.extensions["jiuzhu.plugins"], code="big", name="大县",
                                    plugin_key="baseline").id
                db.session.commit()
            with use_scope(Scope(tid)):
                town = add_org_unit(db.session, parent=county_root(db.session), name="某镇")
                db.session.commit()
                town_id = town.id
                enc = {name: tables[name.split(".")[0]].c[name.split(".")[1]].type
                       for name in ("households.phone", "household_members.id_number", "household_incomes.note")}
                bi = keyring().blind_index
                for start in range(0, households, 1000):
                    n = min(1000, households - start)
                    with owner.begin() as conn:
                        ids = conn.execute(text(
                            "INSERT INTO households (tenant_id, township_id, address, phone, tags, created_at) "
                            "SELECT :t, :town, 'h' || g, NULL, '[]', now() FROM generate_series(1, :n) g RETURNING id"),
                            {"t": tid, "town": town_id, "n": n}).scalars().all()
                        conn.execute(text("UPDATE households SET phone = :p WHERE id = :id"),
                                     [{"p": enc["households.phone"].encrypt(f"139{h:08d}", tid), "id": h} for h in ids])
                        members = []
                        for h in ids:
                            for k in range(4):
                                number = f"{341021}{1950 + k * 15}0101{h % 1000:03d}{k}"
                                members.append({"t": tid, "h": h, "n": enc["household_members.id_number"].encrypt(
                                    number, tid), "b": blindindex.compute(bi, "id_number", number)})
                        conn.execute(text(
                            "INSERT INTO household_members (tenant_id, household_id, name, id_number, id_number_bidx, "
                            "birth_date, sex, relation, coresident, disability_grade, health, work_ability, working) "
                            "VALUES (:t, :h, '某', :n, :b, '1960-01-01', 'male', 'other', true, 0, 'healthy', 'full', "
                            "false)"), members)
                        conn.execute(text(
                            "INSERT INTO household_incomes (tenant_id, household_id, kind, monthly_amount, note) "
                            "VALUES (:t, :h, 'wage', 1000, :note)"),
                            [{"t": tid, "h": h, "note": enc["household_incomes.note"].encrypt("务工收入", tid)}
                             for h in ids])
                for i in range(households):  # an audit chain of as many events
                    record(db.session, entity_type="case", entity_id=i, action="note",
                           after={"i": i, "findings": "户主重病"}, reason="入户调查")
                    if i % 1000 == 999:
                        db.session.commit()
                db.session.commit()
            print(f"seeded {households:,} households (× 4 members), {households:,} audit events "
                  f"in {time.perf_counter() - t0:.1f} s")
        db.session.remove()

    document = read_key_file(keys_file)
    add_key(document, "field")
    add_key(document, "blind_index")
    write_key_file(keys_file, document, replace=True)
    app = create_app()  # every process restarted with the new keys
    runner = app.test_cli_runner()
    for args in (["keys", "rotate", "--batch", "500"], ["keys", "rotate", "--blind-index", "--batch", "500"],
                 ["audit", "verify"], ["keys", "status"]):
        t0 = time.perf_counter()
        result = runner.invoke(args=args)
        took = time.perf_counter() - t0
        last = [line for line in result.output.splitlines() if line.strip()][-1]
        print(f"flask {' '.join(args):<40} {took:7.1f} s   {last}")
    owner.dispose()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-database", action="store_true")
    args = parser.parse_args()
    micro()
    if not args.no_database:
        with_database(args.households, args.keep)


if __name__ == "__main__":
    main()
