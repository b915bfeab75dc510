//! What a stage of load measured, as JSON and as the rows of the printed table.

use std::{collections::HashMap, time::Duration};

use serde_json::{Value, json};

use super::{driver::FlowOutcome, logs::Counts, system::Usage};
use crate::stats::Run;

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One stage of load: its flows, the latency of every RPC kind, the logs' growth and each process's CPU.
pub struct Stage {
    pub name: String,
    pub concurrency: Option<usize>,
    pub target_per_second: Option<f64>,
    pub outcomes: Vec<FlowOutcome>,
    pub elapsed: Duration,
    pub rpcs: Vec<Run>,
    pub rpc_errors: HashMap<&'static str, u64>,
    pub log_growth: Vec<(&'static str, Counts)>,
    pub cpu_seconds: Vec<(String, f64)>,
}

impl Stage {
    pub fn completed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_ok()).count()
    }

    pub fn flows_per_second(&self) -> f64 {
        self.completed() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    pub fn flow_latency(&self) -> Run {
        let latencies = self.outcomes.iter().filter(|o| o.result.is_ok()).map(|o| o.elapsed).collect();
        Run::new("flow", self.elapsed, latencies)
    }

    pub fn events(&self) -> i64 {
        self.log_growth.iter().map(|(_, c)| c.events).sum()
    }

    pub fn events_per_second(&self) -> f64 {
        self.events() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// Writing transactions per completed flow, per service (PostgreSQL logs only) and in total.
    pub fn commits_per_flow(&self) -> Option<f64> {
        let flows = self.completed().max(1) as f64;
        let commits: Option<i64> = self.log_growth.iter().map(|(_, c)| c.commits).sum();
        commits.map(|c| c as f64 / flows)
    }

    /// The process that used the most CPU in the stage, and its share of one core.
    pub fn busiest(&self) -> Option<(String, f64)> {
        let seconds = self.elapsed.as_secs_f64().max(f64::EPSILON);
        self.cpu_seconds.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(name, cpu)| (name.clone(), cpu / seconds))
    }

    pub fn rpc(&self, kind: &str) -> Option<&Run> {
        self.rpcs.iter().find(|r| r.name == kind)
    }

    pub fn json(&self) -> Value {
        let flows = self.completed().max(1) as f64;
        let seconds = self.elapsed.as_secs_f64().max(f64::EPSILON);
        json!({
            "name": self.name,
            "concurrency": self.concurrency,
            "target_flows_per_second": self.target_per_second,
            "flows_started": self.outcomes.len(),
            "flows_completed": self.completed(),
            "flows_failed": self.outcomes.len() - self.completed(),
            "seconds": seconds,
            "flows_per_second": self.flows_per_second(),
            "flow_latency": self.flow_latency().json(),
            "events": self.events(),
            "events_per_second": self.events_per_second(),
            "commits_per_flow": self.commits_per_flow(),
            "per_service": self.log_growth.iter().map(|(service, c)| json!({
                "service": service,
                "events_per_flow": c.events as f64 / flows,
                "commits_per_flow": c.commits.map(|n| n as f64 / flows),
                "inbox_marks_per_flow": c.inbox_marks as f64 / flows,
            })).collect::<Vec<_>>(),
            "cpu_cores_used": self.cpu_seconds.iter().map(|(name, cpu)| json!({
                "process": name, "cpu_seconds": cpu, "cores": cpu / seconds, "cpu_ms_per_flow": cpu * 1e3 / flows,
            })).collect::<Vec<_>>(),
            "cpu_ms_per_flow_all_processes": self.cpu_seconds.iter().map(|(_, cpu)| cpu).sum::<f64>() * 1e3 / flows,
            "busiest_process": self.busiest().map(|(name, _)| name),
            "rpcs": self.rpcs.iter().map(Run::json).collect::<Vec<_>>(),
            "rpc_errors": self.rpc_errors,
        })
    }
}

pub fn usage_json(usage: &[(String, Usage)]) -> Value {
    Value::Array(
        usage
            .iter()
            .map(|(name, u)| {
                json!({
                    "process": name,
                    "cpu_seconds_total": u.cpu_seconds,
                    "peak_resident_mib": u.peak_resident_kib as f64 / 1024.0,
                    "resident_mib_at_end": u.resident_kib as f64 / 1024.0,
                })
            })
            .collect(),
    )
}
