//! anomaly-scorer: scores records with a small logistic-regression model shipped inside the
//! plugin (`model/weights.txt`, compiled in: nothing is downloaded at build or run time).
//!
//! A payload is `feature=value` pairs, comma-separated (`cpu=0.93,mem=0.8,latency_ms=450,
//! error_rate=0.02`); every feature of the model must be there (others are ignored). The record
//! is emitted with `("anomaly-score", "<p>")` (3 decimals) and `("anomaly", "true"|"false")`
//! (score >= `threshold`, configuration, default 0.5). A missing or non-numeric feature fails the
//! record with `invalid-input`. The plugin is a value (stateful shape): `new` parses the model
//! and the threshold once per instance; a bad threshold is `bad-config` for every call.
//! Counters: `scored`, `anomalies`.

use plugin_sdk::processor_plugin::config;
use plugin_sdk::processor_plugin::metrics;
use plugin_sdk::processor_plugin::processor::{DataRecord, PluginInfo, ProcessingResult};
use plugin_sdk::processor_plugin::types::{Capabilities, ErrorKind, PluginError};
use plugin_sdk::stateful::processor_plugin::processor::ProcessorState;

const WEIGHTS: &str = include_str!("../model/weights.txt");

struct Scorer {
    bias: f64,
    weights: Vec<(String, f64)>,
    threshold: f64,
}

fn error(kind: ErrorKind, message: String, record_id: Option<String>) -> PluginError {
    PluginError {
        kind,
        message,
        record_id,
    }
}

impl Scorer {
    fn score(&self, payload: &[u8]) -> Result<f64, String> {
        let text = std::str::from_utf8(payload).map_err(|_| "payload is not UTF-8".to_string())?;
        let mut features = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("expected feature=value, got {item:?}"))?;
            features.push((name.trim(), value.trim()));
        }
        let mut z = self.bias;
        for (name, weight) in &self.weights {
            let (_, text) = features
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| format!("missing feature {name}"))?;
            let x: f64 = text
                .parse()
                .map_err(|_| format!("feature {name} is not a number"))?;
            z += weight * x;
        }
        Ok(1.0 / (1.0 + (-z).exp()))
    }
}

impl ProcessorState for Scorer {
    fn new() -> Result<Self, PluginError> {
        let mut bias = 0.0;
        let mut weights = Vec::new();
        for line in WEIGHTS.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, w) = line.split_once(' ').unwrap_or((line, ""));
            let w: f64 = w.trim().parse().map_err(|_| {
                error(
                    ErrorKind::Internal,
                    format!("bad model line {line:?}"),
                    None,
                )
            })?;
            if name == "bias" {
                bias = w;
            } else {
                weights.push((name.to_string(), w));
            }
        }
        let threshold = match config::get("threshold") {
            None => 0.5,
            Some(text) => match text.trim().parse::<f64>() {
                Ok(t) if (0.0..=1.0).contains(&t) => t,
                _ => {
                    let message = format!("threshold must be a number in [0, 1], got {text:?}");
                    return Err(error(ErrorKind::BadConfig, message, None));
                }
            },
        };
        Ok(Scorer {
            bias,
            weights,
            threshold,
        })
    }

    fn info(&mut self) -> PluginInfo {
        PluginInfo {
            name: "anomaly-scorer".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            capabilities: Capabilities::BATCHING | Capabilities::ORDERED,
        }
    }

    fn process(&mut self, mut record: DataRecord) -> ProcessingResult {
        let score = match self.score(&record.payload) {
            Ok(score) => score,
            Err(message) => {
                let id = Some(record.id);
                return ProcessingResult::Failed(error(ErrorKind::InvalidInput, message, id));
            }
        };
        metrics::counter_add("scored", 1);
        let anomaly = score >= self.threshold;
        if anomaly {
            metrics::counter_add("anomalies", 1);
        }
        record
            .metadata
            .push(("anomaly-score".to_string(), format!("{score:.3}")));
        record
            .metadata
            .push(("anomaly".to_string(), anomaly.to_string()));
        ProcessingResult::Emit(record)
    }

    fn process_batch(&mut self, records: Vec<DataRecord>) -> Vec<ProcessingResult> {
        records.into_iter().map(|r| self.process(r)).collect()
    }
}

plugin_sdk::export_processor_plugin_stateful!(Scorer);
