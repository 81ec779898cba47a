//! The database models, backend and token store (feature `orm`), on SQLite
//! and on PostgreSQL (when `TACK_TEST_POSTGRES` names a server). Tests run
//! under `futures_executor::block_on` on the test's own thread, so the
//! synchronous PostgreSQL client never meets a tokio worker.
#![cfg(feature = "orm")]

mod common;

use std::sync::{Arc, Mutex};

use common::conformance::{BackendFixture, backend_suite, token_store_suite};
use common::{CHEAP, PASSWORD, app, hasher};
use tack_auth::password::{Argon2Params, HasherEvent};
use tack_auth::validation::UserAttributes;
use tack_auth::{
    Auth, AuthBackend, AuthUser, Credentials, DbBackend, DbTokenStore, Error, NewUser, Password,
    Permission, create_permissions, create_superuser, ensure_permissions, models,
};
use tack_orm::migrations::{self, Migrations};
use tack_orm::{AsyncDatabase, Database, Executor, ModelExt};
use tack_sessions::SecretKey;
use tack_test::TestClient;

/// A backend and token store on a fresh database.
struct TestDb {
    backend: DbBackend,
    tokens: DbTokenStore,
    db: Database,
    url: String,
}

impl TestDb {
    fn on(url: &str) -> TestDb {
        let db = Database::connect(url).expect("the test database opens");
        // The tables come from the migrations tack-auth ships.
        migrations::migrate(&db, &auth_migrations(), None).expect("the auth tables are created");
        let workers = AsyncDatabase::new(db.clone(), 2);
        TestDb {
            backend: DbBackend::new(workers.clone()).with_hasher(hasher()),
            tokens: DbTokenStore::new(workers),
            db,
            url: url.to_owned(),
        }
    }

    /// Adds a user synchronously (the fixture methods are not async).
    fn add(&self, username: &str) -> tack_auth::User {
        let hash = hasher().hash(PASSWORD).unwrap();
        tack_auth::db::insert_user(&self.db, NewUser::with_hash(username, "", hash)).unwrap()
    }
}

/// tack-auth's migrations, alone.
fn auth_migrations() -> Migrations {
    Migrations::default()
        .with(tack_auth::MIGRATIONS)
        .expect("tack-auth's migrations load")
}

/// Runs the async `test` on a [`TestDb`] at `url`, on this thread.
fn run_on(url: &str, test: impl AsyncFnOnce(&TestDb)) {
    let db = TestDb::on(url);
    futures_executor::block_on(test(&db));
}

tack_test::on_both_databases!(
    crate::run_on;
    backend_conformance,
    token_store_conformance,
    permission_matrix,
    users_load_in_one_query,
    ensure_permissions_is_idempotent,
    duplicate_usernames_are_refused,
    unknown_permissions_are_refused,
    hashing_runs_on_the_database_workers,
    old_hashes_are_upgraded_on_login,
    password_change_signs_out_other_sessions,
    bearer_tokens_through_the_layer,
    changing_a_password_revokes_the_users_tokens,
    the_shipped_migrations_make_the_models_tables,
    the_database_throttle_is_shared_by_every_process,
    parallel_attempts_on_two_processes_are_counted_in_turn,
);

/// Two "processes": throttles on two connections to the same database,
/// reading one hand-moved clock.
fn two_throttles(
    db: &TestDb,
) -> (
    tack_auth::DbThrottle,
    tack_auth::DbThrottle,
    common::ManualClock,
) {
    let clock = common::ManualClock::new();
    let open = || {
        let database = Database::connect(&db.url).expect("a second connection");
        tack_auth::DbThrottle::new(AsyncDatabase::new(database, 2)).with_clock(clock.reader())
    };
    (open(), open(), clock)
}

fn address(last: u8) -> Option<std::net::IpAddr> {
    Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
        192, 0, 2, last,
    )))
}

async fn the_database_throttle_is_shared_by_every_process(db: &TestDb) {
    use tack_auth::throttle::LoginThrottle;
    let (one, other, clock) = two_throttles(db);
    // Ten failures from one address, spaced past every delay, through one
    // process: the pair locks (Limits::PAIR locks at 10).
    for _ in 0..10 {
        clock.advance(std::time::Duration::from_secs(60));
        assert_eq!(one.reserve("Ada", address(7)).await.unwrap(), None);
    }
    clock.advance(std::time::Duration::from_secs(20));
    let locked = other.reserve("ada", address(7)).await.unwrap();
    assert!(
        locked.is_some_and(|wait| wait > std::time::Duration::from_secs(60)),
        "the lock made through one process holds on the other: {locked:?}"
    );
    // The owner, from elsewhere, is slowed down at most, never locked out.
    assert_eq!(other.reserve("ada", address(8)).await.unwrap(), None);
    // A success forgets the username's failures, on every process.
    other.record_success("ada", address(8)).await.unwrap();
    let rows = models::ThrottleEntry::objects().count(&db.db).unwrap();
    assert!(rows >= 2, "the pair's lock and the addresses stay: {rows}");
    // Old entries expire: a day later, the lock is gone and rows are swept.
    clock.advance(std::time::Duration::from_secs(86_400));
    assert_eq!(one.reserve("ada", address(7)).await.unwrap(), None);
    let keys: Vec<String> = models::ThrottleEntry::objects()
        .all(&db.db)
        .unwrap()
        .into_iter()
        .map(|entry| entry.key)
        .collect();
    assert_eq!(keys.len(), 3, "only this attempt's keys: {keys:?}");
}

async fn parallel_attempts_on_two_processes_are_counted_in_turn(db: &TestDb) {
    use tack_auth::throttle::LoginThrottle;
    let (one, other, _clock) = two_throttles(db);
    let answers: Vec<Option<std::time::Duration>> = std::thread::scope(|scope| {
        let attempts: Vec<_> = (0..20)
            .map(|i| {
                let throttle = if i % 2 == 0 { &one } else { &other };
                scope.spawn(move || {
                    futures_executor::block_on(throttle.reserve("grace", address(9))).unwrap()
                })
            })
            .collect();
        attempts.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let allowed = answers.iter().filter(|wait| wait.is_none()).count();
    // Limits::PAIR lets 3 failures through freely, and the fourth (its delay
    // starts after it): the rest wait, however they interleave.
    assert_eq!(allowed, 4, "{answers:?}");
}

async fn the_shipped_migrations_make_the_models_tables(db: &TestDb) {
    let set = auth_migrations();
    let report = migrations::check(&db.db, &models::all(), &set).expect("check");
    assert!(report.is_ok(), "{report}");
    assert_eq!(set.names(), ["auth.0001_initial", "auth.0002_throttle"]);
    // `migrate auth zero`, as the target `auth.zero`.
    let report = migrations::migrate(&db.db, &set, Some("auth.zero")).expect("roll auth back");
    assert_eq!(
        report.rolled_back,
        ["auth.0002_throttle", "auth.0001_initial"]
    );
    assert!(
        models::User::objects().count(&db.db).is_err(),
        "the tables are gone"
    );
    migrations::migrate(&db.db, &set, None).expect("and back");
    assert_eq!(models::User::objects().count(&db.db).expect("count"), 0);
}

impl BackendFixture for TestDb {
    type Backend = DbBackend;
    fn backend(&self) -> &DbBackend {
        &self.backend
    }
    fn add_user(&self, username: &str, password: &str) -> String {
        let hash = hasher().hash(password).unwrap();
        tack_auth::db::insert_user(&self.db, NewUser::with_hash(username, "", hash))
            .unwrap()
            .id
    }
    fn deactivate(&self, id: &str) {
        let id: i64 = id.parse().unwrap();
        let mut row = models::User::objects()
            .filter(models::User::ID.eq(id))
            .one(&self.db)
            .unwrap();
        row.is_active = false;
        row.save(&self.db).unwrap();
    }
}

async fn backend_conformance(db: &TestDb) {
    backend_suite(db).await;
}

async fn token_store_conformance(db: &TestDb) {
    let users = [db.add("u1").id, db.add("u2").id, db.add("u3").id];
    token_store_suite(&db.tokens, [&users[0], &users[1], &users[2]]).await;
    // Digests only: no column holds a token's text.
    let rows = models::Token::objects().all(&db.db).unwrap();
    assert_eq!(rows.len(), 1, "the suite leaves u2's token");
    assert!(rows.iter().all(|row| row.digest.len() == 64));
    assert!(rows.iter().all(|row| !row.digest.starts_with("tack_")));
}

async fn permission_matrix(db: &TestDb) {
    let backend = &db.backend;
    ensure_permissions(&db.db, &models::all()).unwrap();
    create_permissions(
        &db.db,
        &[Permission::new(
            "newsroom",
            "publish_article",
            "Can publish articles",
        )],
    )
    .unwrap();
    backend
        .add_group("editors", ["auth.change_user", "newsroom.publish_article"])
        .await
        .unwrap();
    backend
        .add_group("viewers", ["auth.view_user"])
        .await
        .unwrap();

    let plain = db.add("plain");
    let editor = db.add("editor");
    backend.add_to_group(&editor.id, "editors").await.unwrap();
    let granted = db.add("granted");
    backend.grant(&granted.id, "auth.view_group").await.unwrap();
    backend.add_to_group(&granted.id, "viewers").await.unwrap();
    let hash = hasher().hash(PASSWORD).unwrap();
    let root = backend
        .insert(NewUser {
            is_superuser: true,
            is_staff: true,
            ..NewUser::with_hash("root", "", hash)
        })
        .await
        .unwrap();
    let retired = db.add("retired");
    backend.add_to_group(&retired.id, "editors").await.unwrap();
    backend
        .update(&retired.id, |row| row.is_active = false)
        .await
        .unwrap();
    let fallen = db.add("fallen");
    backend
        .update(&fallen.id, |row| {
            row.is_superuser = true;
            row.is_active = false;
        })
        .await
        .unwrap();

    let cases: &[(&str, &str, bool)] = &[
        (&plain.id, "auth.change_user", false),
        (&editor.id, "auth.change_user", true),
        (&editor.id, "newsroom.publish_article", true),
        (&editor.id, "auth.view_user", false),
        (&granted.id, "auth.view_group", true),
        (&granted.id, "auth.view_user", true),
        (&granted.id, "auth.change_user", false),
        (&root.id, "auth.delete_user", true),
        (&root.id, "anything.at_all", true),
        (&retired.id, "auth.change_user", false),
        (&fallen.id, "auth.view_user", false),
    ];
    for (id, permission, expected) in cases {
        let user = backend.get_user(id).await.unwrap().unwrap();
        assert_eq!(
            user.has_perm(permission),
            *expected,
            "{} {permission}",
            user.username
        );
    }
    let editor = backend.get_user(&editor.id).await.unwrap().unwrap();
    assert_eq!(editor.groups, ["editors"]);
    assert!(editor.has_module_perms("newsroom"));
    assert!(!editor.has_module_perms("blog"));
    // Replacing a group's permissions takes effect on the next load.
    backend
        .add_group("editors", ["auth.view_user"])
        .await
        .unwrap();
    let editor = backend.get_user(&editor.id).await.unwrap().unwrap();
    assert!(editor.has_perm("auth.view_user"));
    assert!(!editor.has_perm("auth.change_user"));
}

async fn users_load_in_one_query(db: &TestDb) {
    let backend = &db.backend;
    ensure_permissions(&db.db, &models::all()).unwrap();
    let user = db.add("busy");
    for (n, permission) in ["auth.view_user", "auth.add_user", "auth.change_user"]
        .iter()
        .enumerate()
    {
        let group = format!("group{n}");
        backend.add_group(&group, [*permission]).await.unwrap();
        backend.add_to_group(&user.id, &group).await.unwrap();
    }
    backend.grant(&user.id, "auth.view_token").await.unwrap();
    let before = db.db.queries_run();
    let loaded = backend.get_user(&user.id).await.unwrap().unwrap();
    assert_eq!(
        db.db.queries_run() - before,
        1,
        "the row, groups and permissions in one query"
    );
    assert_eq!(loaded.groups, ["group0", "group1", "group2"]);
    assert_eq!(loaded.permissions.len(), 4);
    // Signing in loads the same in one query too (besides last_login).
    let before = db.db.queries_run();
    let signed_in = backend
        .authenticate(&Credentials::password("busy", PASSWORD))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(db.db.queries_run() - before, 1);
    assert_eq!(signed_in.permissions, loaded.permissions);
    assert_eq!(signed_in.groups, loaded.groups);
}

async fn ensure_permissions_is_idempotent(db: &TestDb) {
    let metas = models::all();
    assert_eq!(ensure_permissions(&db.db, &metas).unwrap(), 4 * metas.len());
    assert_eq!(ensure_permissions(&db.db, &metas).unwrap(), 0);
    let custom = [Permission::new(
        "newsroom",
        "publish_article",
        "Can publish",
    )];
    assert_eq!(create_permissions(&db.db, &custom).unwrap(), 1);
    assert_eq!(create_permissions(&db.db, &custom).unwrap(), 0);
    let stored = models::Permission::objects().count(&db.db).unwrap();
    assert_eq!(stored as usize, 4 * metas.len() + 1);
    let change_user = models::Permission::objects()
        .filter(models::Permission::KEY.eq("auth.change_user".to_owned()))
        .one(&db.db)
        .unwrap();
    assert_eq!(
        (
            change_user.app_label.as_str(),
            change_user.codename.as_str()
        ),
        ("auth", "change_user")
    );
    assert_eq!(change_user.name, "Can change user");
    // A malformed custom permission writes nothing.
    let bad = [
        Permission::new("newsroom", "fine", "Fine"),
        Permission::new("newsroom", "has.dot", "Bad"),
    ];
    let error = create_permissions(&db.db, &bad).unwrap_err();
    assert_eq!(error.status(), 422, "{error}");
    let after = models::Permission::objects().count(&db.db).unwrap();
    assert_eq!(after, stored);
}

async fn duplicate_usernames_are_refused(db: &TestDb) {
    let hasher = hasher();
    let first = create_superuser(
        "john",
        "john@example.com",
        &Password::new(PASSWORD),
        &Default::default(),
        &hasher,
    )
    .unwrap();
    let stored = db.backend.insert(first).await.unwrap();
    assert!(stored.is_superuser && stored.is_staff);
    // The same name in full-width letters is the same name after NFKC.
    let again = tack_auth::create_user(
        "\u{FF4A}ohn",
        "",
        &Password::new(PASSWORD),
        &Default::default(),
        &hasher,
    )
    .unwrap();
    let error = db.backend.insert(again).await.unwrap_err();
    assert!(
        matches!(&error, Error::InvalidUsername { username, .. } if username == "john"),
        "{error:?}"
    );
    assert_eq!(error.status(), 422);
    assert!(error.to_string().contains("already exists"), "{error}");
    assert_eq!(models::User::objects().count(&db.db).unwrap(), 1);
    // Renaming onto a taken name is refused the same way.
    let other = db.add("jane");
    let error = db
        .backend
        .update(&other.id, |row| row.username = "john".into())
        .await
        .unwrap_err();
    assert_eq!(error.status(), 422, "{error}");
    let jane = db.backend.get_user(&other.id).await.unwrap().unwrap();
    assert_eq!(jane.username, "jane");
}

async fn unknown_permissions_are_refused(db: &TestDb) {
    let user = db.add("ada");
    let error = db
        .backend
        .grant(&user.id, "newsroom.change_article")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::UnknownPermission { permission, .. } if permission == "newsroom.change_article"),
        "{error:?}"
    );
    assert_eq!(error.status(), 422);
    let error = db
        .backend
        .add_group("editors", ["newsroom.change_article"])
        .await
        .unwrap_err();
    assert_eq!(error.status(), 422);
    // Nothing was written: the group does not exist.
    assert_eq!(models::Group::objects().count(&db.db).unwrap(), 0);
    assert_eq!(db.backend.grant("999999", "x.y").await.unwrap(), None);
}

async fn hashing_runs_on_the_database_workers(db: &TestDb) {
    db.add("ada");
    let events: Arc<Mutex<Vec<(HasherEvent, String)>>> = Arc::default();
    let seen = events.clone();
    let backend = db
        .backend
        .clone()
        .with_hasher(hasher().with_observer(move |event| {
            let thread = std::thread::current().name().unwrap_or("").to_owned();
            seen.lock().unwrap().push((event, thread));
        }));
    for (username, password, expected) in [
        ("nobody", PASSWORD, HasherEvent::VerifyDummy),
        ("ada", "wrong-password", HasherEvent::Verify),
        ("ada", PASSWORD, HasherEvent::Verify),
    ] {
        let found = backend
            .authenticate(&Credentials::password(username, password))
            .await
            .unwrap();
        assert_eq!(found.is_some(), password == PASSWORD && username == "ada");
        let (event, thread) = events.lock().unwrap().pop().expect("the hasher ran");
        assert_eq!(event, expected, "{username}");
        assert!(thread.starts_with("tack-orm-"), "hashed on {thread:?}");
    }
    // Usernames are NFKC-normalized as the core does.
    let ada = backend
        .authenticate(&Credentials::password("\u{FF41}da", PASSWORD))
        .await
        .unwrap()
        .expect("the full-width spelling names ada");
    // Password changes (and so resets) hash on the workers too.
    let seen = events.clone();
    let auth = Auth::new(backend, SecretKey::generate()).with_hasher(hasher().with_observer(
        move |event| {
            let thread = std::thread::current().name().unwrap_or("").to_owned();
            seen.lock().unwrap().push((event, thread));
        },
    ));
    events.lock().unwrap().clear();
    auth.set_password(
        &ada,
        &Password::new("a-brand-new-passphrase"),
        &UserAttributes::new(&ada.username, &ada.email),
    )
    .await
    .unwrap();
    let (event, thread) = events.lock().unwrap().pop().expect("the hasher ran");
    assert_eq!(event, HasherEvent::Hash);
    assert!(thread.starts_with("tack-orm-"), "hashed on {thread:?}");
}

async fn old_hashes_are_upgraded_on_login(db: &TestDb) {
    let user = db.add("ada");
    let stronger = Argon2Params {
        iterations: CHEAP.iterations + 1,
        ..CHEAP
    };
    let backend = db
        .backend
        .clone()
        .with_hasher(tack_auth::PasswordHasher::new().with_params(stronger));
    let signed_in = backend
        .authenticate(&Credentials::password("ada", PASSWORD))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(signed_in.password, user.password);
    assert!(
        signed_in.password.contains(",t=2,"),
        "{}",
        signed_in.password
    );
    let stored = backend.get_user(&user.id).await.unwrap().unwrap();
    assert_eq!(stored.password, signed_in.password);
    assert!(
        backend
            .authenticate(&Credentials::password("ada", PASSWORD))
            .await
            .unwrap()
            .is_some()
    );
}

fn auth(db: &TestDb) -> Auth<DbBackend> {
    Auth::new(db.backend.clone(), SecretKey::generate())
        .with_hasher(hasher())
        .with_tokens(db.tokens.clone())
}

async fn password_change_signs_out_other_sessions(db: &TestDb) {
    db.add("ada");
    let app = app(auth(db));
    let laptop = TestClient::new(app.clone());
    let phone = TestClient::new(app);
    let login = format!("/login?u=ada&p={PASSWORD}");
    assert_eq!(laptop.get(&login).send().await.text(), "welcome ada");
    assert_eq!(phone.get(&login).send().await.text(), "welcome ada");
    let last_login = db.backend.user_by_username("ada").await.unwrap().unwrap();
    assert!(last_login.last_login.is_some(), "login records last_login");

    let changed = laptop
        .get("/password?p=a-brand-new-passphrase")
        .send()
        .await;
    assert_eq!(changed.text(), "changed");
    assert_eq!(laptop.get("/me").send().await.text(), "ada");
    assert_eq!(phone.get("/me").send().await.text(), "anonymous");
    assert_eq!(
        phone.get(&login).send().await.status(),
        401,
        "the old password is refused"
    );
}

async fn bearer_tokens_through_the_layer(db: &TestDb) {
    let ada = db.add("ada");
    let auth = auth(db);
    let (token, record) = auth.create_token(&ada, "deploy script").await.unwrap();
    let client = TestClient::new(app(auth.clone()));
    let bearer = format!("Bearer {}", token.expose());
    let me = client
        .get("/me")
        .header("authorization", &bearer)
        .send()
        .await;
    assert_eq!((me.status().as_u16(), me.text()), (200, "ada".to_owned()));
    assert_eq!(
        auth.tokens_of(&ada).await.unwrap(),
        std::slice::from_ref(&record)
    );

    // Guards see the user's database permissions.
    let editor = client
        .get("/editor/")
        .header("authorization", &bearer)
        .send()
        .await;
    assert_eq!(editor.status(), 403);
    create_permissions(
        &db.db,
        &[Permission::new(
            "newsroom",
            "change_article",
            "Can change article",
        )],
    )
    .unwrap();
    db.backend
        .grant(&ada.id, "newsroom.change_article")
        .await
        .unwrap();
    let editor = client
        .get("/editor/")
        .header("authorization", &bearer)
        .send()
        .await;
    assert_eq!(editor.text(), "ada");

    assert!(auth.revoke_token(&record.id).await.unwrap());
    let revoked = client
        .get("/me")
        .header("authorization", &bearer)
        .send()
        .await;
    assert_eq!(revoked.status(), 401);

    // Deleting a user deletes its tokens.
    let (_, second) = auth.create_token(&ada, "laptop").await.unwrap();
    let id: i64 = ada.id.parse().unwrap();
    models::User::objects()
        .filter(models::User::ID.eq(id))
        .delete(&db.db)
        .unwrap();
    assert!(!auth.revoke_token(&second.id).await.unwrap());
    assert!(
        db.db
            .with_connection(|conn| {
                let mut count = 0i64;
                conn.query("SELECT COUNT(*) FROM auth_token", &[], |row| {
                    count = row.get(0)?;
                    Ok(())
                })?;
                Ok(count)
            })
            .unwrap()
            == 0
    );
}

async fn changing_a_password_revokes_the_users_tokens(db: &TestDb) {
    let ada = db.add("ada");
    let bob = db.add("bob");
    let auth = auth(db);
    let (_, _) = auth.create_token(&ada, "laptop").await.unwrap();
    let (bobs, _) = auth.create_token(&bob, "bob's").await.unwrap();

    // Through `Auth` (a password change page).
    let attributes = UserAttributes::new("ada", "");
    let new = Password::from("a-brand-new-passphrase");
    auth.set_password(&ada, &new, &attributes).await.unwrap();
    assert!(auth.tokens_of(&ada).await.unwrap().is_empty());

    // Synchronously (a `changepassword` command), in one transaction.
    let (_, _) = auth.create_token(&ada, "phone").await.unwrap();
    let validators = tack_auth::Validators::default();
    let change = |username: &str, password: &str| {
        tack_auth::db::change_password(
            &db.db,
            username,
            &Password::from(password),
            &validators,
            &hasher(),
        )
    };
    let weak = change("ada", "ada").unwrap_err();
    assert_eq!(weak.status(), 422, "{weak}");
    assert_eq!(
        auth.tokens_of(&ada).await.unwrap().len(),
        1,
        "nothing changed"
    );
    change("ada", "yet-another-passphrase").unwrap();
    assert!(auth.tokens_of(&ada).await.unwrap().is_empty());
    let signed_in = db
        .backend
        .authenticate(&Credentials::password("ada", "yet-another-passphrase"))
        .await
        .unwrap();
    assert!(signed_in.is_some(), "the new password works");
    let unknown = change("nobody", "yet-another-passphrase");
    assert!(matches!(unknown, Err(Error::InvalidCredentials)));
    assert!(auth.user_from_token(bobs.expose()).await.unwrap().is_some());
}
