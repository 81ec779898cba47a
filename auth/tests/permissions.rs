//! The permission matrix: own permissions, groups, superusers, inactive users.

mod common;

use common::{PASSWORD, backend};
use tack_auth::{AuthMethod, AuthUser, CurrentUser, User};

#[test]
fn permission_matrix() {
    let backend = backend();
    backend.add_group(
        "editors",
        ["newsroom.change_article", "newsroom.view_article"],
    );
    backend.add_group("moderators", ["newsroom.delete_comment"]);

    let reader = backend.add_user("reader", PASSWORD).unwrap();
    let editor = backend.add_user("editor", PASSWORD).unwrap();
    backend.add_to_group(&editor.id, "editors");
    let both = backend.add_user("both", PASSWORD).unwrap();
    backend.add_to_group(&both.id, "editors");
    backend.add_to_group(&both.id, "moderators");
    let own = backend.add_user("own", PASSWORD).unwrap();
    backend.grant(&own.id, "newsroom.add_tag");
    let root = backend.add_user("root", PASSWORD).unwrap();
    backend.update(&root.id, |u| u.is_superuser = true);
    let gone = backend.add_user("gone", PASSWORD).unwrap();
    backend.add_to_group(&gone.id, "editors");
    backend.update(&gone.id, |u| u.is_active = false);
    let fallen = backend.add_user("fallen", PASSWORD).unwrap();
    backend.update(&fallen.id, |u| {
        u.is_superuser = true;
        u.is_active = false;
    });

    let perms = [
        "newsroom.change_article",
        "newsroom.delete_comment",
        "newsroom.add_tag",
        "other.anything",
    ];
    // Per user: has each of `perms`, has_module_perms("newsroom").
    let table: &[(&str, [bool; 4], bool)] = &[
        ("reader", [false, false, false, false], false),
        ("editor", [true, false, false, false], true),
        ("both", [true, true, false, false], true),
        ("own", [false, false, true, false], true),
        ("root", [true, true, true, true], true),
        ("gone", [false, false, false, false], false),
        ("fallen", [false, false, false, false], false),
    ];
    for (name, expected, module) in table {
        let user = backend.user_by_username(name).unwrap();
        for (perm, want) in perms.iter().zip(expected) {
            assert_eq!(user.has_perm(perm), *want, "{name} {perm}");
        }
        assert_eq!(user.has_module_perms("newsroom"), *module, "{name}");
        let all = expected.iter().all(|b| *b);
        assert_eq!(user.has_perms(perms), all, "{name} has_perms");
    }
    // Groups resolve when read, so a later grant shows up.
    backend.add_group("editors", ["newsroom.change_article", "newsroom.add_tag"]);
    assert!(
        backend
            .user(&editor.id)
            .unwrap()
            .has_perm("newsroom.add_tag")
    );
    assert!(
        !backend
            .user(&reader.id)
            .unwrap()
            .has_perm("newsroom.add_tag")
    );
}

#[test]
fn anonymous_has_nothing() {
    let anonymous = CurrentUser::<User>::anonymous();
    assert!(!anonymous.is_authenticated());
    assert!(!anonymous.has_perm("newsroom.view_article"));
    assert!(!anonymous.is_staff());
    let backend = backend();
    let staff = backend.add_user("staff", PASSWORD).unwrap();
    let staff = backend.update(&staff.id, |u| u.is_staff = true).unwrap();
    let current = CurrentUser::authenticated(staff, AuthMethod::Session);
    assert!(current.is_staff());
    assert_eq!(current.method(), Some(AuthMethod::Session));
}
