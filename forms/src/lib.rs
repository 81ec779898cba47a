#![doc = include_str!("../README.md")]

mod data;
mod error;
mod field;
mod form;
mod formset;
mod model;
mod render;
mod storage;
mod value;

pub use data::{FormData, Limits, UploadedFile};
pub use error::Error;
pub use field::{Choice, Field, FieldKind, Validator, Widget, pretty_name};
pub use form::{Bound, Cleaned, Errors, Form, FormState};
pub use formset::{BoundFormSet, BoundInlineFormSet, DELETE, FormSet, FormSetState, InlineFormSet};
pub use model::{BoundModelForm, EMPTY_LABEL, ModelForm};
pub use render::{TEMPLATES, install};
pub use storage::{LocalStorage, Storage};
pub use tack_forms_macros::Form;
pub use value::{FormValue, Input};
