//! The controller's configuration: which fields are read and written,
//! filtered, searched and ordered, who may do what, and the hooks.

use std::marker::PhantomData;
use std::sync::Arc;

use http::request::Parts;
use tack_orm::{AsyncDatabase, Connection, FieldMeta, Lookup, ManyToManyMeta, Model, QuerySet};

use crate::error::Error;
use crate::permission::{Permission, ReadOnly};

/// A hook run before a write, inside its transaction: it may change the
/// object (set the author from the request's user) or refuse (a
/// `tack_http::Problem` converts with `?` or `.into()`).
pub type BeforeHook<M> =
    Arc<dyn Fn(&Parts, &Connection, &mut M) -> Result<(), Error> + Send + Sync>;
/// A hook run after a write committed (to broadcast it, say).
pub type AfterHook<M> = Arc<dyn Fn(&Parts, &M) + Send + Sync>;
type Scope<M> = Arc<dyn Fn(&Parts, QuerySet<M>) -> QuerySet<M> + Send + Sync>;

/// A field as the API reads it.
#[derive(Clone, Copy)]
pub(crate) enum Readable {
    /// A stored field: its metadata and index in `to_values()`.
    Field(&'static FieldMeta, usize),
    /// A foreign key shown as the related object.
    Nested(&'static FieldMeta, usize),
    /// A many-to-many relation shown as a list of ids.
    Many(&'static ManyToManyMeta),
}

impl Readable {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Readable::Field(f, _) | Readable::Nested(f, _) => f.name,
            Readable::Many(m) => m.name,
        }
    }
}

/// A field as the API writes it.
#[derive(Clone, Copy)]
pub(crate) enum Writable {
    Field(&'static FieldMeta),
    Many(&'static ManyToManyMeta),
}

impl Writable {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Writable::Field(f) => f.name,
            Writable::Many(m) => m.name,
        }
    }
}

/// One accepted filter parameter (`title__icontains`) and the ORM lookup it runs.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    pub(crate) param: String,
    pub(crate) lookup: String,
    pub(crate) field: &'static FieldMeta,
    pub(crate) lookup_name: &'static str,
    /// Whether the path crosses a many-to-many relation (results need DISTINCT).
    pub(crate) many: bool,
}

pub(crate) struct Hooks<M> {
    pub(crate) before_create: Vec<BeforeHook<M>>,
    pub(crate) after_create: Vec<AfterHook<M>>,
    pub(crate) before_update: Vec<BeforeHook<M>>,
    pub(crate) after_update: Vec<AfterHook<M>>,
    pub(crate) before_delete: Vec<BeforeHook<M>>,
    pub(crate) after_delete: Vec<AfterHook<M>>,
}

impl<M> Clone for Hooks<M> {
    fn clone(&self) -> Self {
        Hooks {
            before_create: self.before_create.clone(),
            after_create: self.after_create.clone(),
            before_update: self.before_update.clone(),
            after_update: self.after_update.clone(),
            before_delete: self.before_delete.clone(),
            after_delete: self.after_delete.clone(),
        }
    }
}

pub(crate) struct Config<M> {
    pub(crate) readable: Vec<Readable>,
    pub(crate) writable: Vec<Writable>,
    pub(crate) filters: Vec<Filter>,
    pub(crate) search: Vec<String>,
    pub(crate) ordering: Vec<String>,
    pub(crate) default_ordering: String,
    pub(crate) page_size: u64,
    pub(crate) max_page_size: u64,
    pub(crate) base_path: Option<String>,
    pub(crate) body_limit: usize,
    pub(crate) schema_name: String,
    pub(crate) scope: Option<Scope<M>>,
    pub(crate) permission: Arc<dyn Permission>,
    pub(crate) hooks: Hooks<M>,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Config<M> {
    fn clone(&self) -> Self {
        Config {
            readable: self.readable.clone(),
            writable: self.writable.clone(),
            filters: self.filters.clone(),
            search: self.search.clone(),
            ordering: self.ordering.clone(),
            default_ordering: self.default_ordering.clone(),
            page_size: self.page_size,
            max_page_size: self.max_page_size,
            base_path: self.base_path.clone(),
            body_limit: self.body_limit,
            schema_name: self.schema_name.clone(),
            scope: self.scope.clone(),
            permission: self.permission.clone(),
            hooks: self.hooks.clone(),
            _model: PhantomData,
        }
    }
}

/// A REST API over model `M`, as a `tower::Service`: Django REST
/// framework's `ModelViewSet` for Tack models.
///
/// Relative to where it is mounted it answers `GET /` (list), `POST /`
/// (create), and `GET`, `PUT`, `PATCH`, `DELETE` on `/{pk}/`. Database work
/// runs through the [`AsyncDatabase`], never on the async executor. The
/// builder methods panic on names the model does not have: they are
/// configuration, checked when the service is built.
pub struct Crud<M: Model> {
    pub(crate) db: AsyncDatabase,
    pub(crate) config: Arc<Config<M>>,
}

impl<M: Model> Clone for Crud<M> {
    fn clone(&self) -> Self {
        Crud {
            db: self.db.clone(),
            config: self.config.clone(),
        }
    }
}

impl<M: Model> std::fmt::Debug for Crud<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.config;
        f.debug_struct("Crud")
            .field("model", &M::meta().name)
            .field(
                "readable",
                &c.readable.iter().map(Readable::name).collect::<Vec<_>>(),
            )
            .field(
                "writable",
                &c.writable.iter().map(Writable::name).collect::<Vec<_>>(),
            )
            .field(
                "filters",
                &c.filters.iter().map(|f| &f.param).collect::<Vec<_>>(),
            )
            .field("search", &c.search)
            .field("ordering", &c.ordering)
            .finish()
    }
}

/// The default page size.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The default cap on `?page_size=`.
pub const DEFAULT_MAX_PAGE_SIZE: u64 = 100;

impl<M: Model> Crud<M> {
    /// A controller reading every field and many-to-many relation, writing
    /// every field but an automatic primary key, with no filters, search
    /// or ordering parameters, pages of 20, and the [`ReadOnly`]
    /// permission (reads allowed, writes refused with 403).
    pub fn new(db: AsyncDatabase) -> Self {
        let meta = M::meta();
        let readable = meta
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| Readable::Field(f, i))
            .chain(meta.many_to_many.iter().map(Readable::Many))
            .collect();
        let writable = meta
            .fields
            .iter()
            .filter(|f| f.editable)
            .map(Writable::Field)
            .chain(meta.many_to_many.iter().map(Writable::Many))
            .collect();
        Crud {
            db,
            config: Arc::new(Config {
                readable,
                writable,
                filters: Vec::new(),
                search: Vec::new(),
                ordering: Vec::new(),
                default_ordering: String::new(),
                page_size: DEFAULT_PAGE_SIZE,
                max_page_size: DEFAULT_MAX_PAGE_SIZE,
                base_path: None,
                body_limit: 1024 * 1024,
                schema_name: meta.name.to_owned(),
                scope: None,
                permission: Arc::new(ReadOnly),
                hooks: Hooks {
                    before_create: Vec::new(),
                    after_create: Vec::new(),
                    before_update: Vec::new(),
                    after_update: Vec::new(),
                    before_delete: Vec::new(),
                    after_delete: Vec::new(),
                },
                _model: PhantomData,
            }),
        }
    }

    fn config(&mut self) -> &mut Config<M> {
        Arc::make_mut(&mut self.config)
    }

    /// The fields the API shows, in this order (stored fields and
    /// many-to-many relations).
    ///
    /// # Panics
    /// If a name is not a field of `M`.
    pub fn fields(mut self, names: &[&str]) -> Self {
        let meta = M::meta();
        let readable = names
            .iter()
            .map(|name| {
                if let Some(i) = meta.fields.iter().position(|f| f.name == *name) {
                    Readable::Field(&meta.fields[i], i)
                } else if let Some(m2m) = meta.many_to_many(name) {
                    Readable::Many(m2m)
                } else {
                    panic!("{}", unknown_in::<M>(name, "readable field"));
                }
            })
            .collect();
        self.config().readable = readable;
        self
    }

    /// The only fields a request body may set (no mass assignment: any
    /// other readable field in a body is ignored as read-only, and names
    /// that are not fields are refused with 400).
    ///
    /// # Panics
    /// If a name is not a field of `M`, or names a field that is not
    /// editable (`editable = false`, `auto_now`, `auto_now_add`).
    pub fn writable(mut self, names: &[&str]) -> Self {
        let meta = M::meta();
        let writable = names
            .iter()
            .map(|name| {
                if let Some(field) = meta.fields.iter().find(|f| f.name == *name) {
                    if !field.editable && !field.primary_key {
                        panic!(
                            "{}.{name} is not editable (editable = false, auto_now or auto_now_add): \
                             it cannot be a writable field",
                            meta.name
                        );
                    }
                    Writable::Field(field)
                } else if let Some(m2m) = meta.many_to_many(name) {
                    Writable::Many(m2m)
                } else {
                    panic!("{}", unknown_in::<M>(name, "writable field"));
                }
            })
            .collect();
        self.config().writable = writable;
        self
    }

    /// Fields shown but never written (removed from the writable set).
    pub fn read_only(mut self, names: &[&str]) -> Self {
        for name in names {
            check_name::<M>(name, "read-only field");
        }
        self.config()
            .writable
            .retain(|w| !names.contains(&w.name()));
        self
    }

    /// Shows these foreign keys as the related object (every field of the
    /// target) instead of its id, when reading.
    ///
    /// # Panics
    /// If a name is not a readable foreign key.
    pub fn nested(mut self, names: &[&str]) -> Self {
        for name in names {
            let config = self.config();
            let slot = config.readable.iter_mut().find(|r| r.name() == *name);
            match slot {
                Some(slot @ Readable::Field(..)) => {
                    if let Readable::Field(field, i) = *slot {
                        assert!(
                            field.relation.is_some(),
                            "{}: {name} is not a foreign key, so it cannot be nested",
                            M::meta().name
                        );
                        *slot = Readable::Nested(field, i);
                    }
                }
                Some(_) => {}
                None => panic!("{}", unknown_in::<M>(name, "readable foreign key")),
            }
        }
        self
    }

    /// Filters by exact value: `?status=published`, `?author=3`, `?tags=2`
    /// (a many-to-many relation's id).
    pub fn filter_fields(self, names: &[&str]) -> Self {
        names
            .iter()
            .fold(self, |crud, name| crud.filter(name, &["exact"]))
    }

    /// Filters on `path` (a field, or a path across relations such as
    /// `author__display_name`) with these lookups: `"exact"` is
    /// `?path=value`, any other is `?path__lookup=value` (`icontains`,
    /// `gte`, `lte`, `in`, `isnull`, ...). Values are parsed by the field's
    /// kind; a bad value is a 400 naming the parameter.
    ///
    /// # Panics
    /// If the path or a lookup is unknown.
    pub fn filter(self, path: &str, lookups: &[&str]) -> Self {
        self.filter_as(path, path, lookups)
    }

    /// Like [`Crud::filter`] under another parameter name:
    /// `filter_as("tag", "tags__name", &["exact"])` answers `?tag=rust`.
    ///
    /// # Panics
    /// If the path or a lookup is unknown.
    pub fn filter_as(mut self, param: &str, path: &str, lookups: &[&str]) -> Self {
        let meta = M::meta();
        let field = tack_orm::resolve_field(meta, path)
            .unwrap_or_else(|error| panic!("filter {param:?}: {error}"));
        let first = path.split("__").next().unwrap_or(path);
        let many = meta.many_to_many(first).is_some();
        for lookup in lookups {
            let (lookup_name, _) = Lookup::ALL
                .iter()
                .find(|(n, _)| n == lookup)
                .unwrap_or_else(|| {
                    let names: Vec<&str> = Lookup::ALL.iter().map(|(n, _)| *n).collect();
                    panic!(
                        "filter {param:?}: unknown lookup {lookup:?}; lookups: {}",
                        names.join(", ")
                    )
                });
            let (param, orm) = if *lookup == "exact" {
                (param.to_owned(), path.to_owned())
            } else {
                (format!("{param}__{lookup}"), format!("{path}__{lookup}"))
            };
            self.config().filters.push(Filter {
                param,
                lookup: orm,
                field,
                lookup_name,
                many,
            });
        }
        self
    }

    /// `?search=words`: every word must appear (ignoring case) in one of
    /// these fields (paths may cross relations).
    ///
    /// # Panics
    /// If a path is unknown.
    pub fn search_fields(mut self, paths: &[&str]) -> Self {
        for path in paths {
            if let Err(error) = tack_orm::resolve_field(M::meta(), path) {
                panic!("search field {path:?}: {error}");
            }
        }
        self.config().search = paths.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// `?ordering=-published_at,title` may use these fields; others are a 400.
    ///
    /// # Panics
    /// If a path is unknown.
    pub fn ordering_fields(mut self, paths: &[&str]) -> Self {
        for path in paths {
            if let Err(error) = tack_orm::resolve_field(M::meta(), path) {
                panic!("ordering field {path:?}: {error}");
            }
        }
        self.config().ordering = paths.iter().map(|p| (*p).to_owned()).collect();
        self
    }

    /// The order when `?ordering=` is absent (`"-published_at"`); the
    /// primary key always breaks ties, so pages are stable.
    ///
    /// # Panics
    /// If a path is unknown.
    pub fn default_ordering(mut self, ordering: &str) -> Self {
        if let Err(error) = QuerySet::<M>::new().order_by_name(ordering) {
            panic!("default ordering {ordering:?}: {error}");
        }
        self.config().default_ordering = ordering.to_owned();
        self
    }

    /// The page size without `?page_size=` (default 20), and the most
    /// `?page_size=` may ask for (default 100; a larger ask is a 400).
    pub fn page_size(mut self, default: u64, max: u64) -> Self {
        let config = self.config();
        config.max_page_size = max.max(1);
        config.page_size = default.clamp(1, config.max_page_size);
        self
    }

    /// The collection's public path (`"/api/articles/"`), used for the
    /// `next`/`previous` links and `Location` headers when the service is
    /// mounted behind a prefix it does not see. Requests whose path still
    /// starts with it have it stripped.
    pub fn base_path(mut self, path: &str) -> Self {
        let mut path = path.trim_end_matches('/').to_owned();
        path.push('/');
        self.config().base_path = Some(path);
        self
    }

    /// The largest request body accepted (default 1 MiB; larger is a 413).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.config().body_limit = bytes;
        self
    }

    /// The name of the model's schema in the OpenAPI document (default
    /// the model's name; the write schemas add `Write` and `Patch`).
    pub fn schema_name(mut self, name: &str) -> Self {
        self.config().schema_name = name.to_owned();
        self
    }

    /// Narrows the rows every action sees (list, retrieve, update, delete):
    /// `.scope(|parts, qs| qs.filter(...))`, for example only the request
    /// user's own rows. Rows outside the scope answer 404.
    pub fn scope(
        mut self,
        scope: impl Fn(&Parts, QuerySet<M>) -> QuerySet<M> + Send + Sync + 'static,
    ) -> Self {
        self.config().scope = Some(Arc::new(scope));
        self
    }

    /// Who may do what; checked before the database is touched. The
    /// default is [`ReadOnly`].
    pub fn permission(mut self, permission: impl Permission) -> Self {
        self.config().permission = Arc::new(permission);
        self
    }

    /// Runs before a create, after the body was applied and before
    /// validation, in the write's transaction.
    pub fn before_create(
        mut self,
        hook: impl Fn(&Parts, &Connection, &mut M) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Self {
        self.config().hooks.before_create.push(Arc::new(hook));
        self
    }

    /// Runs after a create committed.
    pub fn after_create(mut self, hook: impl Fn(&Parts, &M) + Send + Sync + 'static) -> Self {
        self.config().hooks.after_create.push(Arc::new(hook));
        self
    }

    /// Runs before an update (PUT or PATCH), after the body was applied
    /// and before validation, in the write's transaction.
    pub fn before_update(
        mut self,
        hook: impl Fn(&Parts, &Connection, &mut M) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Self {
        self.config().hooks.before_update.push(Arc::new(hook));
        self
    }

    /// Runs after an update committed.
    pub fn after_update(mut self, hook: impl Fn(&Parts, &M) + Send + Sync + 'static) -> Self {
        self.config().hooks.after_update.push(Arc::new(hook));
        self
    }

    /// Runs before a delete, in its transaction (changes to the object are
    /// not saved).
    pub fn before_delete(
        mut self,
        hook: impl Fn(&Parts, &Connection, &mut M) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Self {
        self.config().hooks.before_delete.push(Arc::new(hook));
        self
    }

    /// Runs after a delete committed, with the deleted object.
    pub fn after_delete(mut self, hook: impl Fn(&Parts, &M) + Send + Sync + 'static) -> Self {
        self.config().hooks.after_delete.push(Arc::new(hook));
        self
    }

    /// The database this controller runs on.
    pub fn database(&self) -> &AsyncDatabase {
        &self.db
    }
}

fn check_name<M: Model>(name: &str, what: &str) {
    let meta = M::meta();
    if meta.fields.iter().all(|f| f.name != name) && meta.many_to_many(name).is_none() {
        panic!("{}", unknown_in::<M>(name, what));
    }
}

fn unknown_in<M: Model>(name: &str, what: &str) -> String {
    let meta = M::meta();
    let names: Vec<&str> = meta
        .fields
        .iter()
        .map(|f| f.name)
        .chain(meta.many_to_many.iter().map(|m| m.name))
        .collect();
    format!(
        "{} has no {what} {name:?}; its fields: {}",
        meta.name,
        names.join(", ")
    )
}
