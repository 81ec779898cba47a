//! Formsets: one form repeated (Django's `formset_factory`), and inline
//! formsets of a parent's child rows (`inlineformset_factory`).

use std::marker::PhantomData;

use tack_orm::{Connection, Executor, Instance, ListQuery, ModelHandle, Q, Value};

use crate::Error;
use crate::data::FormData;
use crate::field::{Field, FieldKind, Widget};
use crate::form::{Bound, Form, FormState};
use crate::model::{BoundModelForm, ModelForm};
use crate::render::FormSetView;

/// The name of each form's delete checkbox.
pub const DELETE: &str = "DELETE";

/// How many forms a set shows and accepts.
#[derive(Debug, Clone)]
struct Counts {
    prefix: String,
    extra: usize,
    min_num: usize,
    max_num: usize,
    can_delete: bool,
}

impl Counts {
    fn new(prefix: &str) -> Counts {
        Counts {
            prefix: prefix.to_owned(),
            extra: 1,
            min_num: 0,
            max_num: 1000,
            can_delete: false,
        }
    }

    /// The most forms read from a submission, whatever it claims (Django's
    /// `absolute_max`).
    fn absolute_max(&self) -> usize {
        self.max_num + 1000
    }

    fn form_prefix(&self, index: usize) -> String {
        format!("{}-{index}", self.prefix)
    }

    /// How many forms an unbound set shows after `initial` existing ones.
    fn shown(&self, initial: usize) -> usize {
        (initial + self.extra)
            .max(self.min_num)
            .min(self.max_num.max(initial))
    }

    /// The management form: how many forms there are and were.
    fn management(&self, total: usize, initial: usize) -> FormState {
        let hidden = |name: &str, value: usize| {
            Field::new(name, FieldKind::Integer)
                .widget(Widget::named("hidden"))
                .initial(value.to_string())
        };
        let mut state = FormState::new(vec![
            hidden("TOTAL_FORMS", total),
            hidden("INITIAL_FORMS", initial),
            hidden("MIN_NUM_FORMS", self.min_num),
            hidden("MAX_NUM_FORMS", self.max_num),
        ]);
        state.set_prefix(self.prefix.clone());
        state
    }

    /// Reads `TOTAL_FORMS` and `INITIAL_FORMS`, or says what is missing.
    fn read_management(&self, data: &FormData) -> Result<(usize, usize), String> {
        let name = |field: &str| format!("{}-{field}", self.prefix);
        let read = |field: &str| {
            data.get(&name(field))
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        match (read("TOTAL_FORMS"), read("INITIAL_FORMS")) {
            (Some(total), Some(initial)) => {
                Ok((total.min(self.absolute_max()), initial.min(total)))
            }
            (total, initial) => {
                let missing: Vec<String> = [("TOTAL_FORMS", total), ("INITIAL_FORMS", initial)]
                    .into_iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(f, _)| name(f))
                    .collect();
                Err(format!(
                    "ManagementForm data is missing or has been tampered with. Missing fields: {}. \
                     You may need to file a bug report if the issue persists.",
                    missing.join(", ")
                ))
            }
        }
    }

    /// The set's own checks on how many forms are kept.
    fn check_count(&self, kept: usize, total_claimed: Option<usize>, errors: &mut Vec<String>) {
        let plural = |n: usize| if n == 1 { "form" } else { "forms" };
        if total_claimed.is_some_and(|t| t > self.absolute_max()) || kept > self.max_num {
            errors.push(format!(
                "Please submit at most {} {}.",
                self.max_num,
                plural(self.max_num)
            ));
        } else if kept < self.min_num {
            errors.push(format!(
                "Please submit at least {} {}.",
                self.min_num,
                plural(self.min_num)
            ));
        }
    }

    fn delete_field(&self) -> Option<Field> {
        self.can_delete
            .then(|| Field::new(DELETE, FieldKind::Boolean).label("Delete"))
    }
}

/// Whether a bound form's delete box is checked.
fn marked_deleted(state: &FormState) -> bool {
    state.field(DELETE).is_some() && crate::field::is_checked(state.input(DELETE).text())
}

/// The builder methods both kinds of formset share.
macro_rules! count_options {
    () => {
        /// How many empty forms are shown after the initial ones (default 1).
        pub fn extra(mut self, n: usize) -> Self {
            self.counts.extra = n;
            self
        }

        /// The fewest forms a submission must keep (checked when bound).
        pub fn min_num(mut self, n: usize) -> Self {
            self.counts.min_num = n;
            self
        }

        /// The most forms shown and accepted (default 1,000).
        pub fn max_num(mut self, n: usize) -> Self {
            self.counts.max_num = n;
            self
        }

        /// Adds a "Delete" checkbox to each form.
        pub fn can_delete(mut self, yes: bool) -> Self {
            self.counts.can_delete = yes;
            self
        }
    };
}

/// A formset's state without the forms' Rust type: the management form,
/// each form, which are deleted, and the errors about the set.
#[derive(Debug, Clone)]
pub struct FormSetState {
    counts: Counts,
    management: FormState,
    forms: Vec<FormState>,
    empty_form: FormState,
    initial: usize,
    errors: Vec<String>,
    bound: bool,
}

impl FormSetState {
    /// The errors about the set as a whole (too few forms, a tampered
    /// management form).
    pub fn non_form_errors(&self) -> &[String] {
        &self.errors
    }

    /// The forms, in order.
    pub fn forms(&self) -> &[FormState] {
        &self.forms
    }

    /// How many of the forms show existing objects.
    pub fn initial_count(&self) -> usize {
        self.initial
    }

    /// Whether the form at `index` was marked for deletion.
    pub fn is_deleted(&self, index: usize) -> bool {
        self.forms.get(index).is_some_and(marked_deleted)
    }

    /// Whether the form at `index` takes part: not deleted, and changed or
    /// showing an existing object.
    pub fn is_kept(&self, index: usize) -> bool {
        !self.is_deleted(index)
            && (index < self.initial || self.forms.get(index).is_some_and(FormState::has_changed))
    }

    /// Whether data was bound and every kept form, and the set, is valid.
    pub fn is_valid(&self) -> bool {
        self.bound
            && self.errors.is_empty()
            && (0..self.forms.len())
                .filter(|&i| self.is_kept(i))
                .all(|i| self.forms[i].errors().is_empty())
    }

    /// The set as a template value: `{{ formset }}` prints the management
    /// form and each form; `formset.forms`, `formset.management_form`,
    /// `formset.empty_form` (for a script's "add another") and
    /// `formset.non_form_errors` are there to lay it out by hand.
    pub fn view(&self) -> minijinja::Value {
        minijinja::Value::from_object(FormSetView {
            management: self.management.view(),
            forms: self.forms.iter().map(FormState::view).collect(),
            empty_form: self.empty_form.view(),
            errors: self.errors.clone(),
            prefix: self.counts.prefix.clone(),
        })
    }

    /// Starts binding: the counts the management form gives, or `None`
    /// (with the error recorded and no forms) when it is missing.
    fn begin_bind(&mut self, data: &FormData) -> Option<(usize, usize)> {
        self.bound = true;
        match self.counts.read_management(data) {
            Ok(counts) => Some(counts),
            Err(message) => {
                self.errors.push(message);
                self.forms.clear();
                None
            }
        }
    }

    /// Ends binding with the bound forms.
    fn end_bind(&mut self, data: &FormData, forms: Vec<FormState>, initial: usize) {
        let total = forms.len();
        self.forms = forms;
        self.initial = initial;
        self.management = self.counts.management(total, initial);
        let claimed = data
            .get(&format!("{}-TOTAL_FORMS", self.counts.prefix))
            .and_then(|v| v.trim().parse().ok());
        self.finish(claimed);
    }

    /// Clears the errors of forms that do not take part (extra forms left
    /// empty, deleted forms), then checks how many are kept.
    fn finish(&mut self, claimed: Option<usize>) {
        for index in 0..self.forms.len() {
            if !self.is_kept(index) {
                *self.forms[index].errors_mut() = crate::Errors::new();
            }
        }
        let kept = (0..self.forms.len()).filter(|&i| self.is_kept(i)).count();
        let counts = self.counts.clone();
        counts.check_count(kept, claimed, &mut self.errors);
    }
}

/// A typed form repeated: `FormSet::<Comment>::new("comments").extra(2)`.
#[derive(Debug, Clone)]
pub struct FormSet<F> {
    counts: Counts,
    form: PhantomData<fn() -> F>,
}

/// A bound (or shown) formset of typed forms.
#[derive(Debug, Clone)]
pub struct BoundFormSet<F> {
    state: FormSetState,
    forms: Vec<Bound<F>>,
}

impl<F: Form> FormSet<F> {
    /// A set whose fields are named `{prefix}-{index}-{field}`, with one
    /// extra form.
    pub fn new(prefix: &str) -> FormSet<F> {
        FormSet {
            counts: Counts::new(prefix),
            form: PhantomData,
        }
    }

    count_options!();

    fn blank(&self, prefix: String) -> Bound<F> {
        let mut form = F::form().prefix(prefix);
        if let Some(delete) = self.counts.delete_field() {
            form.state_mut().push_field(delete);
        }
        form
    }

    /// The set to show, its first forms filled from `initial` (each a list
    /// of field name and value).
    pub fn form(&self, initial: &[Vec<(&str, String)>]) -> BoundFormSet<F> {
        let total = self.counts.shown(initial.len());
        let forms: Vec<Bound<F>> = (0..total)
            .map(|i| {
                let mut form = self.blank(self.counts.form_prefix(i));
                for (field, value) in initial.get(i).into_iter().flatten() {
                    form = form.initial(field, value.clone());
                }
                form
            })
            .collect();
        BoundFormSet {
            state: FormSetState {
                management: self.counts.management(total, initial.len()),
                forms: forms.iter().map(|f| f.state().clone()).collect(),
                empty_form: self
                    .blank(format!("{}-__prefix__", self.counts.prefix))
                    .state()
                    .clone(),
                counts: self.counts.clone(),
                initial: initial.len(),
                errors: Vec::new(),
                bound: false,
            },
            forms,
        }
    }

    /// The set bound to `data`: the management form says how many forms
    /// were sent; extra forms left as they were and deleted forms are not
    /// checked.
    pub fn bind(&self, data: &FormData) -> BoundFormSet<F> {
        let mut set = self.form(&[]);
        set.forms.clear();
        let Some((total, initial)) = set.state.begin_bind(data) else {
            return set;
        };
        set.forms = (0..total)
            .map(|i| self.blank(self.counts.form_prefix(i)).bind(data))
            .collect();
        let states = set.forms.iter().map(|f| f.state().clone()).collect();
        set.state.end_bind(data, states, initial);
        set
    }
}

impl<F: Form> BoundFormSet<F> {
    /// Whether every kept form, and the set, is valid.
    pub fn is_valid(&self) -> bool {
        self.state.is_valid()
    }

    /// The kept forms' typed values, in order, when the set is valid.
    pub fn cleaned(&self) -> Option<Vec<&F>> {
        if !self.is_valid() {
            return None;
        }
        (0..self.forms.len())
            .filter(|&i| self.state.is_kept(i))
            .map(|i| self.forms[i].cleaned())
            .collect()
    }

    /// The indexes of the forms marked for deletion.
    pub fn deleted(&self) -> Vec<usize> {
        (0..self.forms.len())
            .filter(|&i| self.state.is_deleted(i))
            .collect()
    }

    /// The typed forms.
    pub fn forms(&self) -> &[Bound<F>] {
        &self.forms
    }

    /// The untyped state.
    pub fn state(&self) -> &FormSetState {
        &self.state
    }

    /// The set as a template value.
    pub fn view(&self) -> minijinja::Value {
        self.state.view()
    }
}

/// The child rows of a parent as a formset (the comments under an
/// article): existing rows to change or delete, and extra forms for new
/// ones, saved with the parent in one transaction.
#[derive(Debug, Clone)]
pub struct InlineFormSet {
    child: ModelForm,
    fk: &'static str,
    counts: Counts,
}

/// An inline formset shown, or bound to data and checked.
#[derive(Debug, Clone)]
pub struct BoundInlineFormSet {
    set: InlineFormSet,
    state: FormSetState,
    forms: Vec<BoundModelForm>,
}

impl InlineFormSet {
    /// The rows of `child` whose foreign key `fk` points at the parent.
    /// The prefix is the child model's name in lower case.
    ///
    /// # Panics
    /// When `fk` is not a foreign key of the child model.
    pub fn new(child: ModelHandle, fk: &'static str) -> InlineFormSet {
        let meta = child.meta();
        assert!(
            meta.fields
                .iter()
                .any(|f| f.name == fk && f.relation.is_some()),
            "{fk} is not a foreign key of {}",
            meta.name
        );
        let prefix = meta.name.to_lowercase();
        InlineFormSet {
            child: ModelForm::new(child).exclude(&[fk]),
            fk,
            counts: Counts::new(&prefix),
        }
    }

    /// Only these fields of the child.
    pub fn fields(mut self, names: &[&str]) -> Self {
        self.child = self.child.fields(names).exclude(&[self.fk]);
        self
    }

    count_options!();

    /// Changes the prefix (needed when two inlines of one model share a page).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.counts.prefix = prefix.to_owned();
        self
    }

    fn children(&self, exec: &impl Executor, parent: &Instance) -> Result<Vec<Instance>, Error> {
        if !parent.is_saved() {
            return Ok(Vec::new());
        }
        let query = ListQuery::new().filter(Q::lookup(
            self.fk,
            tack_orm::Lookup::Exact,
            parent.pk().clone(),
        ));
        Ok(self.child.handle().list(exec, &query)?)
    }

    fn new_child(&self, parent: &Instance) -> Instance {
        let mut child = self.child.handle().blank();
        let _ = child.set(self.fk, parent.pk().clone());
        child
    }

    /// The form of one row, with its hidden id and delete box.
    fn decorate(&self, form: &mut BoundModelForm, pk: Option<&Value>) {
        let meta = self.child.handle().meta();
        let pk_meta = &meta.fields[meta.pk];
        let mut id = Field::new(pk_meta.name, FieldKind::Text)
            .widget(Widget::named("hidden"))
            .required(false);
        if let Some(pk) = pk {
            id = id.initial(pk_meta.format_input(pk));
        }
        if form.state().field(pk_meta.name).is_none() {
            form.state_mut().push_field(id);
        }
        if let Some(delete) = self.counts.delete_field() {
            form.state_mut().push_field(delete);
        }
    }

    /// The set to show for `parent`: its existing rows, then extra forms.
    pub fn form(
        &self,
        exec: &impl Executor,
        parent: &Instance,
    ) -> Result<BoundInlineFormSet, Error> {
        let children = self.children(exec, parent)?;
        let initial = children.len();
        let total = self.counts.shown(initial);
        let mut forms = Vec::new();
        for (index, child) in children
            .into_iter()
            .map(Some)
            .chain(std::iter::repeat(None))
            .take(total)
            .enumerate()
        {
            let pk = child.as_ref().map(|c| c.pk().clone());
            let child = child.unwrap_or_else(|| self.new_child(parent));
            let mut form = self
                .child
                .clone()
                .prefix(self.counts.form_prefix(index))
                .form(exec, Some(child))?;
            self.decorate(&mut form, pk.as_ref());
            forms.push(form);
        }
        let mut empty = self
            .child
            .clone()
            .prefix(format!("{}-__prefix__", self.counts.prefix))
            .form(exec, Some(self.new_child(parent)))?;
        self.decorate(&mut empty, None);
        Ok(BoundInlineFormSet {
            set: self.clone(),
            state: FormSetState {
                counts: self.counts.clone(),
                management: self.counts.management(total, initial),
                forms: forms.iter().map(|f| f.state().clone()).collect(),
                empty_form: empty.state().clone(),
                initial,
                errors: Vec::new(),
                bound: false,
            },
            forms,
        })
    }

    /// The set bound to `data` for `parent`. A form that names a row which
    /// is not one of the parent's is an error, never a write to that row.
    pub fn bind(
        &self,
        exec: &impl Executor,
        data: &FormData,
        parent: &Instance,
    ) -> Result<BoundInlineFormSet, Error> {
        let mut set = self.form(exec, parent)?;
        set.forms.clear();
        let Some((total, initial)) = set.state.begin_bind(data) else {
            return Ok(set);
        };
        let children = self.children(exec, parent)?;
        let meta = self.child.handle().meta();
        let pk_meta = &meta.fields[meta.pk];
        let mut forms = Vec::new();
        for index in 0..total {
            let prefix = self.counts.form_prefix(index);
            let sent_pk = data
                .get(&format!("{prefix}-{}", pk_meta.name))
                .unwrap_or("")
                .trim();
            let existing = if index < initial && !sent_pk.is_empty() {
                let wanted = pk_meta.parse_input(sent_pk).ok();
                children
                    .iter()
                    .find(|c| Some(c.pk()) == wanted.as_ref())
                    .cloned()
            } else {
                None
            };
            let unknown = index < initial && existing.is_none();
            let pk = existing.as_ref().map(|c| c.pk().clone());
            let child = existing.unwrap_or_else(|| self.new_child(parent));
            let mut form = self
                .child
                .clone()
                .prefix(prefix)
                .bind(exec, data, Some(child))?;
            self.decorate(&mut form, pk.as_ref());
            // Re-bind so the id and delete fields read the data too.
            let mut state = form.state().clone();
            let errors = state.errors().clone();
            state.bind(data);
            *state.errors_mut() = errors;
            *form.state_mut() = state;
            if unknown {
                form.add_error(
                    Some(pk_meta.name),
                    "Select a valid choice. That choice is not one of the available choices.",
                );
            }
            forms.push(form);
        }
        let states = forms.iter().map(|f| f.state().clone()).collect();
        set.state.end_bind(data, states, initial);
        set.forms = forms;
        Ok(set)
    }
}

impl BoundInlineFormSet {
    /// Whether every kept form, and the set, is valid.
    pub fn is_valid(&self) -> bool {
        self.state.is_valid()
    }

    /// The untyped state.
    pub fn state(&self) -> &FormSetState {
        &self.state
    }

    /// The model forms, in order.
    pub fn forms(&self) -> &[BoundModelForm] {
        &self.forms
    }

    /// The set as a template value.
    pub fn view(&self) -> minijinja::Value {
        self.state.view()
    }

    /// Deletes the rows marked for deletion and saves the others, pointing
    /// them at `parent` (saved first, so a new parent has its id). Call it
    /// inside the parent's transaction; answers `false` and writes nothing
    /// more when a form turns out invalid (a database refusal, shown beside
    /// its field): roll the transaction back then.
    pub fn save(&mut self, tx: &Connection, parent: &Instance) -> Result<bool, Error> {
        if !self.is_valid() {
            return Ok(false);
        }
        let handle = self.set.child.handle();
        for index in 0..self.forms.len() {
            if self.state.is_deleted(index) {
                if index < self.state.initial {
                    handle.delete(tx, self.forms[index].instance().pk())?;
                }
                continue;
            }
            if !self.state.is_kept(index) {
                continue;
            }
            let form = &mut self.forms[index];
            let _ = form.instance_mut().set(self.set.fk, parent.pk().clone());
            if form.save(tx)?.is_none() {
                self.state.forms[index] = form.state().clone();
                return Ok(false);
            }
        }
        Ok(true)
    }
}
