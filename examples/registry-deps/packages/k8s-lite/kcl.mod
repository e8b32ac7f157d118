[package]
name = "k8s-lite"
edition = "v0.11.0"
version = "0.1.0"
description = "A few Kubernetes schemas, enough for examples/registry-deps"
