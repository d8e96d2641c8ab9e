//! The job kinds this worker runs.

pub mod alerts;
pub mod auto_capture;
pub mod capture;
pub mod enrich;
pub mod eventsub;
pub mod housekeeping;
pub mod moderation;
pub mod noop;
pub mod trust_bots;

use std::sync::Arc;

use crate::context::Context;
use crate::registry::{Registry, WithOutcome};

/// Every kind the worker binary runs, sharing one context.
pub fn registry(ctx: Arc<Context>) -> Registry {
    let with = |handler: fn(
        Arc<Context>,
        tca_common::db::jobs::ClaimedJob,
    ) -> crate::registry::JobFuture| {
        let ctx = ctx.clone();
        WithOutcome(move |job| handler(ctx.clone(), job))
    };
    Registry::new()
        .register(noop::KIND, noop::run)
        .register(
            capture::KIND,
            with(|ctx, job| Box::pin(capture::run(ctx, job))),
        )
        .register(
            enrich::KIND,
            with(|ctx, job| Box::pin(enrich::run(ctx, job))),
        )
        .register(
            auto_capture::KIND,
            with(|ctx, job| Box::pin(auto_capture::run(ctx, job))),
        )
        .register(
            housekeeping::KIND,
            with(|ctx, job| Box::pin(housekeeping::run(ctx, job))),
        )
        .register(
            moderation::KIND,
            with(|ctx, job| Box::pin(moderation::run(ctx, job))),
        )
        .register(
            eventsub::KIND,
            with(|ctx, job| Box::pin(eventsub::run(ctx, job))),
        )
        .register(
            tca_common::db::jobs::JobKind::EventSubReconcile.as_str(),
            with(|ctx, job| Box::pin(eventsub::reconcile(ctx, job))),
        )
        .register(
            alerts::CHECK_KIND,
            with(|ctx, job| Box::pin(alerts::check(ctx, job))),
        )
        .register(
            alerts::DELIVERY_KIND,
            with(|ctx, job| Box::pin(alerts::deliver(ctx, job))),
        )
        .register(
            trust_bots::KIND,
            with(|ctx, job| Box::pin(trust_bots::run(ctx, job))),
        )
}
