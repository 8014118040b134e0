"""Who may read a thread is one rule (`app.security.thread_readers`), asked three ways: from
one statement (a post, a socket joining the room), from a loaded thread (its page) and as a SQL
condition (search). They once disagreed: a referrer whose client had moved to another referrer
still found that client's messages by search, though the thread itself answered 404."""

from app.extensions import db
from app.models import ClientProfile, Dossier, DossierStatus, Product, Role, Thread, User
from app.security import can_read_thread
from app.services import messaging
from app.services.messaging import access
from tests.factories import make_user


def _world(app):
    ids = {
        "client": make_user(app, Role.CLIENT),
        "expert": make_user(app, Role.EXPERT),
        "replaced_expert": make_user(app, Role.EXPERT),
        "referrer": make_user(app, Role.REFERRER),
        "new_referrer": make_user(app, Role.REFERRER),
        "admin": make_user(app, Role.ADMIN),
        "stranger": make_user(app, Role.CLIENT),
    }
    ids["referred"] = make_user(app, Role.CLIENT, referrer_id=ids["referrer"])
    ids["moved"] = make_user(app, Role.CLIENT, referrer_id=ids["referrer"])
    with app.app_context():
        users = {name: db.session.get(User, uid) for name, uid in ids.items()}
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(
            client_id=ids["client"],
            product_id=product.id,
            expert_id=ids["replaced_expert"],
            status=DossierStatus.AUDIT_IN_PROGRESS,
        )
        db.session.add(dossier)
        db.session.commit()
        threads = {"dossier": messaging.open_dossier_thread(dossier.id, users["client"]).id}
        messaging.post(threads["dossier"], users["replaced_expert"], "bilan remboursement")
        dossier.expert_id = ids["expert"]  # the replaced expert keeps a participant row
        db.session.commit()
        threads["support"] = messaging.open_support_thread(users["client"]).id
        for client in ("referred", "moved"):
            thread = messaging.open_referral_thread(users["referrer"], ids[client])
            threads[client] = thread.id
            messaging.post(thread.id, users[client], "bilan remboursement")
        messaging.post(threads["dossier"], users["expert"], "bilan remboursement")
        messaging.post(threads["support"], users["client"], "bilan remboursement")
        profile = db.session.scalar(
            db.select(ClientProfile).where(ClientProfile.user_id == ids["moved"])
        )
        profile.referrer_id = ids["new_referrer"]  # "moved" is no longer the referrer's
        db.session.commit()
    return ids, threads


EXPECTED = {  # thread -> who reads it besides the admins
    "dossier": {"client", "expert"},
    "support": {"client"},
    "referred": {"referred", "referrer"},
    "moved": {"moved"},
}


def test_the_three_ways_of_asking_agree(app):
    ids, threads = _world(app)
    with app.app_context():
        for name, uid in ids.items():
            user = db.session.get(User, uid)
            readable = set(access.readable_thread_ids(user))
            found = {m.thread_id for m in messaging.search(user, "remboursement")[0]}
            for kind, thread_id in threads.items():
                expected = name == "admin" or name in EXPECTED[kind]
                thread = db.session.get(Thread, thread_id)
                assert can_read_thread(user, access.facts(thread_id)) is expected, (name, kind)
                assert can_read_thread(user, access.facts_of(thread)) is expected, (name, kind)
                if name != "admin":  # (admins read every thread: search asks no list)
                    assert (thread_id in readable) is expected, (name, kind)
                if not expected:
                    assert thread_id not in found, (name, kind)
            if name in ("referrer", "client", "expert"):
                assert found, name  # search does find what they may read


def test_a_referrer_who_lost_the_client_finds_nothing_of_theirs(app):
    ids, threads = _world(app)
    with app.app_context():
        referrer = db.session.get(User, ids["referrer"])
        found = {m.thread_id for m in messaging.search(referrer, "remboursement")[0]}
        assert found == {threads["referred"]}
