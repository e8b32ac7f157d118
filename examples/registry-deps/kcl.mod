[package]
name = "registry-deps"
edition = "v0.11.0"
version = "0.1.0"

[dependencies]
k8s-lite = "0.1.0"
