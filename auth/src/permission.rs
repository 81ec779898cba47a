//! Permission names: Django's `app_label.codename`, and the four a model
//! gets by default (view, add, change, delete).
//!
//! ```
//! use tack_auth::Permission;
//!
//! let defaults = Permission::defaults_for_model("newsroom", "article", "article");
//! let keys: Vec<String> = defaults.iter().map(Permission::key).collect();
//! assert_eq!(keys, ["newsroom.view_article", "newsroom.add_article",
//!                   "newsroom.change_article", "newsroom.delete_article"]);
//! assert_eq!(defaults[2].name, "Can change article");
//! ```

/// The actions every model gets a permission for, in Django's order of
/// display.
pub const DEFAULT_ACTIONS: [&str; 4] = ["view", "add", "change", "delete"];

/// One permission: what a database stores per model (plus custom ones).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Permission {
    /// The app the model belongs to (`newsroom`).
    pub app_label: String,
    /// The codename (`change_article`).
    pub codename: String,
    /// A readable name (`Can change article`).
    pub name: String,
}

impl Permission {
    /// A custom permission (`newsroom`, `publish_article`, `Can publish articles`).
    pub fn new(
        app_label: impl Into<String>,
        codename: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Permission {
            app_label: app_label.into(),
            codename: codename.into(),
            name: name.into(),
        }
    }

    /// `view_`, `add_`, `change_` and `delete_` permissions for a model
    /// (`model` is its lowercase name; `verbose_name` is used in `name`).
    pub fn defaults_for_model(app_label: &str, model: &str, verbose_name: &str) -> Vec<Permission> {
        let model = model.to_lowercase();
        DEFAULT_ACTIONS
            .iter()
            .map(|action| {
                Permission::new(
                    app_label,
                    format!("{action}_{model}"),
                    format!("Can {action} {verbose_name}"),
                )
            })
            .collect()
    }

    /// `app_label.codename`: what [`AuthUser::has_perm`](crate::AuthUser::has_perm) takes.
    pub fn key(&self) -> String {
        format!("{}.{}", self.app_label, self.codename)
    }

    /// Splits `app_label.codename`; `None` without a dot or with an empty side.
    pub fn split_key(key: &str) -> Option<(&str, &str)> {
        key.split_once('.')
            .filter(|(app, codename)| !app.is_empty() && !codename.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        let permission = Permission::new("newsroom", "publish_article", "Can publish articles");
        assert_eq!(permission.key(), "newsroom.publish_article");
        assert_eq!(
            Permission::split_key(&permission.key()),
            Some(("newsroom", "publish_article"))
        );
        for bad in ["", "nodot", ".x", "x."] {
            assert_eq!(Permission::split_key(bad), None, "{bad}");
        }
        assert_eq!(
            Permission::defaults_for_model("a", "Tag", "tag")[0].codename,
            "view_tag"
        );
    }
}
