"""Two small holes: a message link to a dossier thread the user may not read created the
thread and then answered 404; a dossier cancelled at step 1 showed 100 % progress."""

from app.extensions import db
from app.models import ApprovalStatus, Dossier, DossierStatus, Product, Role, Thread
from app.services import workflow
from tests.factories import login, make_user, post


def _dossier(app, **fields) -> int:
    client_id = make_user(app, Role.CLIENT, email="c@example.fr")
    with app.app_context():
        product = db.session.scalar(db.select(Product).where(Product.code == "TICPE"))
        dossier = Dossier(client_id=client_id, product_id=product.id, **fields)
        db.session.add(dossier)
        db.session.commit()
        return dossier.id


def test_a_thread_is_not_created_for_someone_who_may_not_read_it(app, client):
    pending = make_user(
        app, Role.EXPERT, email="p@example.fr", approval_status=ApprovalStatus.APPROVED
    )
    dossier_id = _dossier(
        app, status=DossierStatus.EXPERT_PENDING_ACCEPTANCE, pending_expert_id=pending
    )
    login(client, "p@example.fr")
    assert client.get(f"/dossiers/{dossier_id}").status_code == 200  # they may see the dossier
    assert client.get(f"/messages/dossier/{dossier_id}").status_code == 404  # not its thread
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Thread.id))) == 0


def test_a_dossier_cancelled_at_step_one_keeps_its_progress(app, client):
    dossier_id = _dossier(app, status=DossierStatus.PENDING_UPLOAD)
    login(client, "c@example.fr")
    resp = post(client, f"/dossiers/{dossier_id}/actions/cancel", {"reason": "Plus besoin"})
    assert resp.status_code == 303
    with app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        assert dossier.status == DossierStatus.CANCELLED
        assert workflow.step_of(dossier) == (1, 0)
    page = client.get(f"/dossiers/{dossier_id}").get_data(as_text=True)
    assert "100 %" not in page and "100%" not in page
