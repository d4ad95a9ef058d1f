//! Care orders (issue 8): providers' service catalogue (meals, cleaning, bathing, going to
//! the doctor, nursing at home) with prices; orders placed by the elder, her proxy or her
//! community, accepted, scheduled, completed or called off by the provider, rated by her;
//! each given, when placed, the subsidised hours the rules allow her for its month (a
//! published policy of the rules engine); the month's subsidies by provider and by community.

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
