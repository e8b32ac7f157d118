/**
 * Test harness public surface: a real control plane (etcd + kube-apiserver built from Go
 * modules), Flux source and notification CRDs, Flux-style artifacts, a loopback Git server and the
 * real source-controller and notification-controller. See test/tools/README.md.
 */
export { closeArtifactServer, fileDigest, patchSourceArtifact, serveArtifact } from "./artifact-server.js";
export type { Artifact, ArtifactContent, ServeArtifactCfg } from "./artifact-server.js";
export { newNamespace, useControlPlane } from "./ava.js";
export type { ControlPlaneHandle, UseControlPlaneCfg } from "./ava.js";
export { startControlPlane } from "./control-plane.js";
export type { Component, ControlPlane, ControlPlaneCfg } from "./control-plane.js";
export { startSlowProxy } from "./slow-proxy.js";
export type { SlowProxy } from "./slow-proxy.js";
export { installFluxNotificationCRDs, installFluxSourceCRDs, SOURCE_API_VERSION, SOURCE_PLURALS } from "./flux-crds.js";
export type { InstallCrdsCfg, InstallNotificationCrdsCfg, SourceKind } from "./flux-crds.js";
export { startGitServer } from "./git-server.js";
export type { GitFiles, GitServer } from "./git-server.js";
export { kubeRequest, serverSideApply } from "./kube-request.js";
export type { ApplyCfg, KubeEndpoint, KubeRequestCfg, KubeResponse } from "./kube-request.js";
export { renderKubeconfig, writeKubeconfig } from "./kubeconfig.js";
export type { KubeconfigCredentials, KubeconfigSpec } from "./kubeconfig.js";
export { startNotificationController } from "./notification-controller.js";
export type { NotificationController, NotificationControllerCfg } from "./notification-controller.js";
export { startSourceController } from "./source-controller.js";
export type { SourceController, SourceControllerCfg } from "./source-controller.js";
export { packDirectory } from "./tarball.js";
export type { PackCfg } from "./tarball.js";
export { cacheDir, notificationControllerCrdDir, repoRoot, sourceControllerCrdDir, toolPath, toolVersions } from "./tools.js";
export type { ToolName, ToolVersions } from "./tools.js";
export { waitFor } from "./processes.js";
export type { WaitCfg } from "./processes.js";
