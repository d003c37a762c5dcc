//! Statistics behind the figures a study cites: bootstrap intervals, label metrics, and
//! distances between distributions.

pub mod bootstrap;
pub mod divergence;
pub mod metrics;

pub use bootstrap::{bootstrap_difference, bootstrap_mean, bootstrap_statistic, Bootstrap, Estimate};
pub use divergence::js_distance;
pub use metrics::{metrics, wilson, ClassScore, Metrics};
