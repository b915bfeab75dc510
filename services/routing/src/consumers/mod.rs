//! Routing's reactions to other services' events: opening and closing sheets on applications' events, and the
//! copy of the catalog's routes and working calendar.

pub mod applications;
pub mod catalog_copy;
