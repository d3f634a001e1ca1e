#!/usr/bin/python3
"""tests/edxo-views/views.py: EDxo's schema as sql/0012_edxo_views.sql
shows it, seen through SQLAlchemy (Debian's python3-sqlalchemy, the
library EDxo itself uses).

Run by views.test.mjs inside scripts/test's stack: it needs
RELAIS_TEST_PGHOST (the stack's PostgreSQL socket directory),
RELAIS_TEST_BASE (nginx) and RELAIS_TEST_TOP.  It prints one line per check,
"ok - NAME" or "not ok - NAME", a failure followed by "# " detail lines,
and "done N" when it ran to the end.

1. Shape: ../shared/edxo/schema.sql is created in an in-memory SQLite
   database and reflected; the edxo schema is reflected from PostgreSQL;
   the two must have the same tables, the same columns in the same order,
   the same type affinity, FLOAT as a binary float (not Decimal) and
   DATETIME as a naive timestamp.
2. Writes: inserts, updates and deletes through the reflected tables, each
   checked on relais' own tables with plain SQL; the money column refused.
3. A role with rights on the edxo schema only (docs/deploy-with-edxo.md)
   reads and writes through the views and cannot read relais' ledger.
4. A relais preview applied through nginx (the review page's apply route)
   reads back through the views, and an edit made through the views is
   what relais' read API answers.
"""

import datetime
import decimal
import hashlib
import json
import os
import secrets
import sys
import traceback
import urllib.error
import urllib.request
import warnings

import psycopg2
import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import registry as orm_registry

PGHOST = os.environ["RELAIS_TEST_PGHOST"]
BASE = os.environ["RELAIS_TEST_BASE"]
TOP = os.environ["RELAIS_TEST_TOP"]
SHARED = os.environ.get("RELAIS_SHARED") or os.path.join(TOP, "..", "shared")
SCHEMA_SQL = os.path.join(SHARED, "edxo", "schema.sql")
URL = "postgresql+psycopg2:///relais?host=%s&user=relais" % PGHOST

counted = 0


def report(name, ok, detail=""):
    global counted
    counted += 1
    print(("ok - " if ok else "not ok - ") + name)
    if not ok:
        for line in str(detail).splitlines() or [""]:
            print("# " + line)
    sys.stdout.flush()


def check(name, fn):
    """Run fn; an AssertionError or any exception is a failure."""
    try:
        fn()
    except Exception:
        report(name, False, traceback.format_exc())
    else:
        report(name, True)


def sql(query, *args):
    """One plain-SQL query on relais' tables, outside SQLAlchemy; rows."""
    con = psycopg2.connect(host=PGHOST, user="relais", dbname="relais")
    try:
        with con, con.cursor() as cur:
            cur.execute(query, args)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


def one(query, *args):
    rows = sql(query, *args)
    assert len(rows) == 1 and len(rows[0]) == 1, rows
    return rows[0][0]


def tag():
    return secrets.token_hex(4)


# ---------------------------------------------------------------------------
# 1. Shape
# ---------------------------------------------------------------------------

def sqlite_schema():
    eng = sa.create_engine("sqlite://")
    with open(SCHEMA_SQL, encoding="utf-8") as f:
        text = f.read()
    with eng.begin() as con:
        raw = con.connection.driver_connection
        raw.executescript(text)
    return eng


def columns(insp, table, schema=None):
    return [(c["name"], c["type"]) for c in
            insp.get_columns(table, schema=schema)]


def shape_checks(pg):
    lite = sqlite_schema()
    li = sa.inspect(lite)
    pi = sa.inspect(pg)
    want = sorted(li.get_table_names())
    have = sorted(pi.get_table_names(schema="edxo") +
                  pi.get_view_names(schema="edxo"))

    def same_tables():
        assert len(want) == 54, "schema.sql has %d tables" % len(want)
        missing = sorted(set(want) - set(have))
        extra = sorted(set(have) - set(want))
        assert not missing and not extra, \
            "missing %s, not in EDxo %s" % (missing, extra)
    check("edxo has exactly EDxo's 54 tables", same_tables)

    for t in want:
        if t not in have:
            continue

        def same_columns(t=t):
            lc = columns(li, t)
            pc = columns(pi, t, "edxo")
            assert [n for n, _ in lc] == [n for n, _ in pc], \
                "EDxo %s\nedxo %s" % ([n for n, _ in lc],
                                      [n for n, _ in pc])
            for (n, lt), (_, pt) in zip(lc, pc):
                assert lt._type_affinity is pt._type_affinity, \
                    "%s: EDxo %r, edxo %r" % (n, lt, pt)
                if isinstance(lt, sa.Float):
                    assert isinstance(pt, sa.Float), \
                        "%s: %r is not a binary float" % (n, pt)
                if isinstance(lt, sa.DateTime):
                    assert not pt.timezone, \
                        "%s: %r is not naive" % (n, pt)
        check("table %s: same columns, order and types" % t, same_columns)


# ---------------------------------------------------------------------------
# 2. Writes through the reflected tables
# ---------------------------------------------------------------------------

def demo_programme():
    return one("SELECT id FROM programmes WHERE nom LIKE "
               "'Technologie du génie électrique%%' ORDER BY id LIMIT 1")


def write_checks(pg, md, ids):
    T = md.tables
    cours_v = T["edxo.Cours"]
    cp_v = T["edxo.Cours_Programme"]
    pc_v = T["edxo.PlanCadre"]
    cap_v = T["edxo.PlanCadreCapacites"]
    pdc_v = T["edxo.PlanDeCours"]
    cal_v = T["edxo.PlanDeCoursCalendrier"]
    user_v = T["edxo.User"]
    models_v = T["edxo.openai_models"]
    prompts_v = T["edxo.plan_de_cours_prompt_settings"]
    regles_v = T["edxo.DepartmentRegles"]
    stamp = datetime.datetime(2025, 8, 25, 13, 0, 7, 512345)

    def insert_course():
        code = "EDXO-" + tag()
        with pg.begin() as con:
            cid = con.execute(cours_v.insert().returning(cours_v.c.id),
                              dict(code=code, nom="Circuits par EDxo",
                                   nombre_unites=2.33, heures_theorie=2,
                                   heures_laboratoire=3,
                                   heures_travail_maison=2)).scalar_one()
            con.execute(cp_v.insert(), dict(cours_id=cid,
                        programme_id=int(demo_programme()), session=2))
            pc = con.execute(pc_v.insert().returning(pc_v.c.id), dict(
                cours_id=cid, place_intro="Intro EDxo",
                objectif_terminal="Analyser", modified_at=stamp)) \
                .scalar_one()
            cap = con.execute(cap_v.insert().returning(cap_v.c.id), dict(
                plan_cadre_id=pc, capacite="Mesurer",
                ponderation_min=40, ponderation_max=60)).scalar_one()
            pdc = con.execute(pdc_v.insert().returning(pdc_v.c.id), dict(
                cours_id=cid, session="A25",
                presentation_du_cours="Présentation EDxo",
                compatibility_percentage=87.5)).scalar_one()
            cal = [con.execute(cal_v.insert().returning(cal_v.c.id), dict(
                plan_de_cours_id=pdc, semaine=w, sujet="Semaine %d" % w))
                .scalar_one() for w in (1, 2)]
        ids.update(cours=cid, code=code, pc=pc, cap=cap, pdc=pdc, cal=cal)
        r = sql("SELECT code, nombre_unites, heures_laboratoire FROM cours "
                "WHERE id = %s", cid)
        assert r == [(code, decimal.Decimal("2.33"), 3)], r
        assert one("SELECT session FROM cours_programme WHERE cours_id = "
                   "%s", cid) == 2
        r = sql("SELECT cours_id, place_intro, ai_model, modified_at = "
                "'2025-08-25 13:00:07.512345+00'::timestamptz "
                "FROM plan_cadre WHERE id = %s", pc)
        assert r == [(cid, "Intro EDxo", "gpt-5", True)], r
        r = sql("SELECT presentation_du_cours, compatibility_percentage, "
                "materiel FROM plan_de_cours WHERE id = %s", pdc)
        assert r == [("Présentation EDxo", decimal.Decimal("87.50"), "")], r
        assert one("SELECT count(*) FROM plan_de_cours_calendrier "
                   "WHERE plan_de_cours_id = %s", pdc) == 2
    check("insert through the views: cours, programme link, plan-cadre, "
          "capacité, plan de cours, calendar land in relais' tables",
          insert_course)
    if "cours" not in ids:
        return

    def read_back():
        with pg.connect() as con:
            r = con.execute(sa.select(cours_v.c.nombre_unites)
                            .where(cours_v.c.id == ids["cours"])).one()
            assert isinstance(r[0], float) and r[0] == 2.33, r
            r = con.execute(sa.select(pc_v.c.modified_at)
                            .where(pc_v.c.id == ids["pc"])).one()
            assert r[0] == stamp and r[0].tzinfo is None, r
    check("read through the views: float units, naive UTC datetime as "
          "written", read_back)

    def update_rows():
        with pg.begin() as con:
            n = con.execute(pc_v.update().where(pc_v.c.id == ids["pc"])
                            .values(place_intro="Intro révisée dans EDxo"))
            assert n.rowcount == 1
            con.execute(cours_v.update().where(cours_v.c.id == ids["cours"])
                        .values(nombre_unites=2.66, nom="Circuits II"))
            con.execute(pdc_v.update().where(pdc_v.c.id == ids["pdc"])
                        .values(campus="Campus nord"))
            con.execute(cap_v.update().where(cap_v.c.id == ids["cap"])
                        .values(ponderation_max=70))
        r = sql("SELECT p.place_intro, p.modified_at = "
                "'2025-08-25 13:00:07.512345+00'::timestamptz, "
                "c.nombre_unites, c.nom, d.campus, "
                "d.compatibility_percentage, k.ponderation_max "
                "FROM plan_cadre p, cours c, plan_de_cours d, "
                "plan_cadre_capacites k WHERE p.id = %s AND c.id = %s "
                "AND d.id = %s AND k.id = %s",
                ids["pc"], ids["cours"], ids["pdc"], ids["cap"])
        assert r == [("Intro révisée dans EDxo", True,
                      decimal.Decimal("2.66"), "Circuits II",
                      "Campus nord", decimal.Decimal("87.50"), 70)], r
    check("update through the views: only the columns written change, "
          "converted back exactly", update_rows)

    def delete_row():
        with pg.begin() as con:
            n = con.execute(cal_v.delete().where(cal_v.c.id == ids["cal"][1]))
            assert n.rowcount == 1
        r = sql("SELECT id FROM plan_de_cours_calendrier "
                "WHERE plan_de_cours_id = %s", ids["pdc"])
        assert r == [(ids["cal"][0],)], r
    check("delete through a view removes relais' row", delete_row)

    def refuse_id():
        try:
            with pg.begin() as con:
                con.execute(cours_v.insert(), dict(
                    id=999999999, code="X", nom="X", nombre_unites=1,
                    heures_theorie=0, heures_laboratoire=0,
                    heures_travail_maison=0))
        except sa.exc.DBAPIError as e:
            assert e.orig.pgcode == "428C9", e.orig.pgcode
        else:
            raise AssertionError("an explicit id was accepted")
        assert one("SELECT count(*) FROM cours WHERE id = 999999999") == 0
    check("an explicit id is refused (428C9), nothing written", refuse_id)

    def users():
        name = "edxo-" + tag()
        with pg.begin() as con:
            uid = con.execute(user_v.insert().returning(user_v.c.id), dict(
                username=name, password="$argon2id$v=19$m=65536,t=2,p=1$"
                "c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
                role="professeur", email=name + "@example.org",
                credits=0.0, openai_key="sk-ignored")).scalar_one()
            con.execute(user_v.update().where(user_v.c.id == uid).values(
                nom="Curie", last_login=datetime.datetime(2025, 1, 2, 3, 4),
                api_token="tok-" + name,
                api_token_expires_at=datetime.datetime(2030, 1, 1)))
            row = con.execute(sa.select(user_v).where(user_v.c.id == uid)) \
                .one()._mapping
        ids["user"] = uid
        assert row["credits"] == 0.0 and isinstance(row["credits"], float)
        assert row["openai_key"] is None
        assert row["is_first_connexion"] is True and row["reset_version"] == 0
        want = hashlib.sha256(("tok-" + name).encode()).hexdigest()
        assert row["api_token"] == want, row["api_token"]
        r = sql("SELECT nom, role, credits, openai_key_enc, "
                "encode(api_token, 'hex'), last_login = "
                "'2025-01-02 03:04:00+00'::timestamptz, "
                "api_token_expires_at = '2030-01-01 00:00+00' "
                "FROM users WHERE id = %s", uid)
        assert r == [("Curie", "professeur", decimal.Decimal("0"), None,
                      want, True, True)], r
    check("User: insert and update reach users; openai_key ignored, "
          "api_token kept as its SHA-256, datetimes in UTC", users)

    def credits_refused():
        uid = ids["user"]
        ledger = one("SELECT count(*) FROM usage_ledger")
        for values in (dict(credits=100.0), dict(credits=5.0, nom="X")):
            try:
                with pg.begin() as con:
                    con.execute(user_v.update()
                                .where(user_v.c.id == uid).values(**values))
            except sa.exc.DBAPIError as e:
                assert e.orig.pgcode == "42501", e.orig.pgcode
            else:
                raise AssertionError("a credit change was accepted")
        try:
            with pg.begin() as con:
                con.execute(user_v.insert(), dict(
                    username="rich-" + tag(), password="$argon2id$x",
                    credits=50.0))
        except sa.exc.DBAPIError as e:
            assert e.orig.pgcode == "42501", e.orig.pgcode
        else:
            raise AssertionError("a user with credits was created")
        r = sql("SELECT credits, nom FROM users WHERE id = %s", uid)
        assert r == [(decimal.Decimal("0"), "Curie")], r
        assert one("SELECT count(*) FROM usage_ledger") == ledger
        # Unchanged credits in an update (the ORM's full-row form) pass.
        with pg.begin() as con:
            con.execute(user_v.update().where(user_v.c.id == uid)
                        .values(credits=0.0, prenom="Marie"))
        assert one("SELECT prenom FROM users WHERE id = %s", uid) == "Marie"
    check("User.credits is read-only: a change is refused (42501), "
          "nothing written, the ledger untouched", credits_refused)

    def orm():
        # EDxo's models are ORM classes: the unit of work sends every
        # unset column as NULL, reads the new id with RETURNING and
        # counts the rows of each UPDATE and DELETE (StaleDataError).
        class Plan:
            pass

        class Person:
            pass
        meta = sa.MetaData()
        reg = orm_registry()
        reg.map_imperatively(Plan, sa.Table(
            "PlanDeCours", meta, sa.Column("id", sa.Integer,
                                           primary_key=True),
            schema="edxo", autoload_with=pg))
        reg.map_imperatively(Person, sa.Table(
            "User", meta, sa.Column("id", sa.Integer, primary_key=True),
            schema="edxo", autoload_with=pg))
        with OrmSession(pg) as s:
            p = Plan()
            p.cours_id, p.session = ids["cours"], "H26"
            p.presentation_du_cours = "Par l'ORM"
            u = Person()
            u.username, u.password = "orm-" + tag(), "$argon2id$orm"
            s.add_all([p, u])
            s.commit()
            assert isinstance(p.id, int) and isinstance(u.id, int)
            r = sql("SELECT presentation_du_cours, materiel FROM "
                    "plan_de_cours WHERE id = %s", p.id)
            assert r == [("Par l'ORM", "")], r
            r = sql("SELECT credits, role, is_first_connexion, "
                    "reset_version FROM users WHERE id = %s", u.id)
            assert r == [(decimal.Decimal("0"), "invite", True, 0)], r
            p.compatibility_percentage = 42.25
            u.nom = "Orm"
            s.commit()
            r = sql("SELECT d.compatibility_percentage, u.nom FROM "
                    "plan_de_cours d, users u WHERE d.id = %s AND "
                    "u.id = %s", p.id, u.id)
            assert r == [(decimal.Decimal("42.25"), "Orm")], r
            pid, uid = p.id, u.id
            s.delete(p)
            s.delete(u)
            s.commit()
        assert one("SELECT count(*) FROM plan_de_cours WHERE id = %s",
                   pid) == 0
        assert one("SELECT count(*) FROM users WHERE id = %s", uid) == 0
    check("the ORM's unit of work (unset columns, RETURNING id, "
          "row counts) inserts, updates and deletes through the views", orm)

    def delete_user():
        with pg.begin() as con:
            n = con.execute(user_v.delete().where(user_v.c.id == ids["user"]))
            assert n.rowcount == 1
        assert one("SELECT count(*) FROM users WHERE id = %s",
                   ids["user"]) == 0
    check("User: delete through the view", delete_user)

    def models():
        name = "edxo-model-" + tag()
        with pg.begin() as con:
            mid = con.execute(models_v.insert().returning(models_v.c.id),
                              dict(name=name, input_price=0.30000000000000004,
                                   output_price=1.2)).scalar_one()
        r = sql("SELECT input_price, output_price, provider FROM "
                "openai_models WHERE id = %s", mid)
        assert r == [(decimal.Decimal("0.300000"),
                      decimal.Decimal("1.200000"), "openai")], r
        with pg.begin() as con:
            con.execute(models_v.delete().where(models_v.c.id == mid))
        assert one("SELECT count(*) FROM openai_models WHERE id = %s",
                   mid) == 0
    check("openai_models: prices rounded to numeric(12,6), delete",
          models)

    def prompt_settings():
        fid = one("SELECT id FROM plan_de_cours_prompt_settings "
                  "WHERE field_name = 'seuil_reussite'")
        saved = sql("SELECT prompt_template, context_variables, updated_at "
                    "FROM plan_de_cours_prompt_settings WHERE id = %s", fid)
        try:
            with pg.begin() as con:
                con.execute(prompts_v.update()
                            .where(prompts_v.c.id == fid)
                            .values(prompt_template="Seuil {current_value}",
                                    context_variables=None))
            r = sql("SELECT prompt_template, context_variables FROM "
                    "plan_de_cours_prompt_settings WHERE id = %s", fid)
            assert r == [("Seuil {current_value}", [])], r
        finally:
            sql("UPDATE plan_de_cours_prompt_settings SET "
                "prompt_template = %s, context_variables = %s, "
                "updated_at = %s WHERE id = %s", saved[0][0],
                json.dumps(saved[0][1]), saved[0][2], fid)
    check("plan_de_cours_prompt_settings: EDxo's JSON null is an empty "
          "variable list", prompt_settings)

    def own_tables():
        dep = one("SELECT department_id FROM programmes WHERE id = %s",
                  int(demo_programme()))
        with pg.begin() as con:
            rid = con.execute(regles_v.insert().returning(regles_v.c.id),
                              dict(department_id=dep, regle="Retards",
                                   contenu="Pénalité de 10 %")).scalar_one()
            v = con.execute(sa.text(
                "SELECT version_num FROM edxo.alembic_version")).all()
        assert v == [("09fb8fece955",)], v
        assert one('SELECT regle FROM edxo."DepartmentRegles" '
                   "WHERE id = %s", rid) == "Retards"
        sql('DELETE FROM edxo."DepartmentRegles" WHERE id = %s', rid)
    check("EDxo's own tables: DepartmentRegles writable, alembic_version "
          "at EDxo's head", own_tables)


# ---------------------------------------------------------------------------
# 3. EDxo's database role
# ---------------------------------------------------------------------------

def role_checks(ids):
    role = "edxo_test_" + tag()
    # The grants of docs/deploy-with-edxo.md, word for word.
    sql("CREATE ROLE %s LOGIN" % role)
    sql("GRANT USAGE ON SCHEMA edxo TO %s" % role)
    sql("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA edxo "
        "TO %s" % role)
    eng = sa.create_engine("postgresql+psycopg2:///relais?host=%s&user=%s"
                           "&options=-csearch_path%%3Dedxo" % (PGHOST, role))
    try:
        def as_edxo():
            with eng.begin() as con:
                n = con.execute(sa.text(
                    'SELECT count(*) FROM "PlanDeCours"')).scalar_one()
                assert n >= 1, n
                con.execute(sa.text(
                    'UPDATE "PlanDeCours" SET bureau_enseignant = :b '
                    "WHERE id = :i"), dict(b="B-204", i=ids["pdc"]))
                k = con.execute(sa.text(
                    'INSERT INTO "PlanDeCoursMediagraphie" '
                    "(plan_de_cours_id, reference_bibliographique) "
                    "VALUES (:p, 'Floyd') RETURNING id"),
                    dict(p=ids["pdc"])).scalar_one()
                con.execute(sa.text(
                    'INSERT INTO "DBChange" (timestamp, operation, '
                    "table_name, record_id) VALUES (now(), 'INSERT', "
                    "'PlanDeCoursMediagraphie', :k)"), dict(k=k))
            assert one("SELECT bureau_enseignant FROM plan_de_cours "
                       "WHERE id = %s", ids["pdc"]) == "B-204"
            assert one("SELECT reference_bibliographique FROM "
                       "plan_de_cours_mediagraphie WHERE id = %s", k) == \
                "Floyd"
            try:
                with eng.connect() as con:
                    con.execute(sa.text(
                        "SELECT count(*) FROM public.usage_ledger"))
            except sa.exc.DBAPIError as e:
                assert e.orig.pgcode == "42501", e.orig.pgcode
            else:
                raise AssertionError("EDxo's role read the ledger")
        check("a role with rights on schema edxo only reads and writes "
              "through the views (search_path=edxo) and cannot read the "
              "ledger", as_edxo)
    finally:
        eng.dispose()
        sql('DELETE FROM edxo."DBChange" WHERE table_name = '
            "'PlanDeCoursMediagraphie'")
        sql("REVOKE ALL ON ALL TABLES IN SCHEMA edxo FROM %s" % role)
        sql("REVOKE ALL ON SCHEMA edxo FROM %s" % role)
        sql("DROP ROLE %s" % role)


# ---------------------------------------------------------------------------
# 4. relais' writes and reads through nginx
# ---------------------------------------------------------------------------

def http(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, headers, text = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, text = e.code, e.headers, e.read()
    if (headers.get("Content-Type", "").startswith("application/json") and
            os.environ.get("RELAIS_CHECK_RESPONSES") == "1"):
        assert headers.get("X-Relais-Response-Check") == "valid", \
            "%s %s: answer not checked valid" % (method, path)
    return status, json.loads(text) if text else None


def relais_checks(pg, md, ids):
    T = md.tables
    pdc_v = T["edxo.PlanDeCours"]
    cal_v = T["edxo.PlanDeCoursCalendrier"]
    pc_v = T["edxo.PlanCadre"]
    st, body = http("POST", "/auth/token",
                    dict(username="admin@demo.relais", password="relais-demo"))
    if st != 200:
        report("log in as the demo admin", False, "%s %s" % (st, body))
        return
    token = body["access_token"]
    admin = one("SELECT id FROM users WHERE email = 'admin@demo.relais'")

    def apply_preview():
        preview = dict(status="success", preview=True, plan_id=ids["pdc"],
                       cours_id=ids["cours"], session="A25",
                       fields=dict(presentation_du_cours="Présentation "
                                   "appliquée par relais",
                                   nom_enseignant="Marie Curie"),
                       calendriers=[dict(semaine=3, sujet="Kirchhoff"),
                                    dict(semaine=4, sujet="Thévenin")])
        task = one("INSERT INTO tasks (name, user_id, state, result) "
                   "VALUES ('import.plan_de_cours', %s, 'SUCCESS', %s) "
                   "RETURNING id", admin, json.dumps(preview))
        st, body = http("POST", "/plan_de_cours/review/%d/apply" % ids["pdc"],
                        dict(action="confirm", task_id=task), token)
        assert st == 200, "%s %s" % (st, body)
        with pg.connect() as con:
            row = con.execute(sa.select(pdc_v).where(
                pdc_v.c.id == ids["pdc"])).one()._mapping
            cal = con.execute(sa.select(cal_v.c.semaine, cal_v.c.sujet)
                              .where(cal_v.c.plan_de_cours_id == ids["pdc"])
                              .order_by(cal_v.c.id)).all()
        assert row["presentation_du_cours"] == \
            "Présentation appliquée par relais", row
        assert row["nom_enseignant"] == "Marie Curie", row
        assert row["campus"] == "Campus nord", "untouched by the preview"
        assert [tuple(c) for c in cal] == [(3, "Kirchhoff"),
                                           (4, "Thévenin")], cal
    check("a preview applied on relais' review route (through nginx) "
          "reads back through the views", apply_preview)

    def edit_in_edxo():
        with pg.begin() as con:
            con.execute(pc_v.update().where(pc_v.c.id == ids["pc"]).values(
                objectif_terminal="Objectif écrit dans EDxo"))
        st, body = http("GET", "/api/cours/%d/plan_cadre" % ids["cours"],
                        token=token)
        assert st == 200, "%s %s" % (st, body)
        text = json.dumps(body, ensure_ascii=False)
        assert "Objectif écrit dans EDxo" in text, text[:400]
        assert "Intro révisée dans EDxo" in text, text[:400]
    check("an edit made through the views is what relais' API answers "
          "(through nginx)", edit_in_edxo)


def main():
    # Reflecting EDxo's own tables follows their keys to public.users,
    # whose lower(email) index SQLAlchemy does not reflect (and need not).
    warnings.filterwarnings("ignore", category=sa.exc.SAWarning)
    pg = sa.create_engine(URL)
    ids = {}
    try:
        shape_checks(pg)
        md = sa.MetaData()
        md.reflect(bind=pg, schema="edxo", views=True)
        write_checks(pg, md, ids)
        if "pdc" in ids:
            role_checks(ids)
            relais_checks(pg, md, ids)
        else:
            report("later checks need the rows of the insert check", False)
    except Exception:
        report("the script ran to the end", False, traceback.format_exc())
    pg.dispose()
    print("done %d" % counted)


if __name__ == "__main__":
    main()
