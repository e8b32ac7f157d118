[package]
name = "flask_demo"
edition = "v0.11.0"
version = "0.1.0"

[profile]
entries = ["main.k", "render/k8s/kubernetes_render.k"]
