/**
 * The harness control plane is a real kube-apiserver: server-side apply, field managers,
 * watches, CRDs with a status subresource and RBAC, all checked through @kubernetes/client-node.
 */
import {
  ApiException, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, RbacAuthorizationV1Api, VersionApi, Watch,
  type KubernetesObject, type V1ConfigMap,
} from "@kubernetes/client-node";
import test from "ava";
import { newNamespace, useControlPlane } from "./ava.js";
import { toolVersions } from "./tools.js";

const cp = useControlPlane(test);

/** Collects watch events for `path` until `stop()` is called. */
function watchEvents(kc: KubeConfig, path: string) {
  const events: { type: string; obj: KubernetesObject }[] = [];
  let ended: unknown;
  const started = new Watch(kc).watch(path, {}, (type, obj: KubernetesObject) => events.push({ type, obj }), (err) => (ended = err ?? "closed"));
  return {
    events,
    async until(pred: (e: { type: string; obj: KubernetesObject }) => boolean, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!events.some(pred)) {
        if (Date.now() > deadline) throw new Error(`no matching watch event on ${path}; saw [${events.map((e) => `${e.type} ${e.obj.metadata?.name}`).join(", ")}]; watch ended: ${String(ended)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return events.find(pred);
    },
    async stop() {
      (await started).abort();
    },
  };
}

test("/version reports the pinned kube-apiserver version", async (t) => {
  const info = await cp().kubeConfig().makeApiClient(VersionApi).getCode();
  const pinned = toolVersions()["kube-apiserver"];
  t.is(info.gitVersion, pinned);
  t.is(`v${info.major}.${info.minor}`, pinned.split(".").slice(0, 2).join("."));
});

test("server-side apply of a ConfigMap records field managers and is seen by a watch", async (t) => {
  const kc = cp().kubeConfig();
  const ns = await newNamespace(cp(), "ssa");
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const watch = watchEvents(kc, `/api/v1/namespaces/${ns}/configmaps`);
  try {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", namespace: ns }, data: { a: "1" } };
    await objects.patch(cm, undefined, undefined, "kclrun-test", true, PatchStrategy.ServerSideApply);
    const added = await watch.until((e) => e.type === "ADDED" && e.obj.metadata?.name === "app");
    t.deepEqual((added?.obj as V1ConfigMap).data, { a: "1" });

    const other = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app", namespace: ns }, data: { b: "2" } };
    await objects.patch(other, undefined, undefined, "other-manager", false, PatchStrategy.ServerSideApply);
    const modified = await watch.until((e) => e.type === "MODIFIED" && (e.obj as V1ConfigMap).data?.b === "2");
    t.deepEqual((modified?.obj as V1ConfigMap).data, { a: "1", b: "2" });

    const read = await kc.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: "app", namespace: ns });
    const managers = (read.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.operation}`).sort();
    t.deepEqual(managers, ["kclrun-test/Apply", "other-manager/Apply"]);

    // A conflicting apply without force is refused by the server with 409.
    const conflict = { ...cm, data: { a: "changed" } };
    const err = await t.throwsAsync(objects.patch(conflict, undefined, undefined, "other-manager", false, PatchStrategy.ServerSideApply));
    t.is((err as ApiException<unknown>).code, 409);
  } finally {
    await watch.stop();
  }
});

test("a CRD with a status subresource: apply a custom resource, patch its status, see both managers", async (t) => {
  const kc = cp().kubeConfig();
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const ns = await newNamespace(cp(), "crd");
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "widgets.test.kclrun.dev" },
    spec: {
      group: "test.kclrun.dev", scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
      versions: [{
        name: "v1", served: true, storage: true, subresources: { status: {} },
        schema: { openAPIV3Schema: { type: "object", properties: {
          spec: { type: "object", properties: { size: { type: "integer" } } },
          status: { type: "object", properties: { phase: { type: "string" } } },
        } } },
      }],
    },
  };
  await objects.patch(crd, undefined, undefined, "kclrun-test", true, PatchStrategy.ServerSideApply);
  await waitEstablished(cp().request.bind(cp()), crd.metadata.name);
  await waitServed(cp().request.bind(cp()), `/apis/test.kclrun.dev/v1/namespaces/${ns}/widgets`);

  const watch = watchEvents(kc, `/apis/test.kclrun.dev/v1/namespaces/${ns}/widgets`);
  try {
    const widget = { apiVersion: "test.kclrun.dev/v1", kind: "Widget", metadata: { name: "w1", namespace: ns }, spec: { size: 3 }, status: { phase: "ignored" } };
    await objects.patch(widget, undefined, undefined, "kclrun-test", true, PatchStrategy.ServerSideApply);
    const added = await watch.until((e) => e.type === "ADDED");
    t.deepEqual((added?.obj as { spec?: unknown }).spec, { size: 3 });
    t.is((added?.obj as { status?: unknown }).status, undefined, "status in the main resource is dropped");

    const res = await cp().request("PATCH", `/apis/test.kclrun.dev/v1/namespaces/${ns}/widgets/w1/status`, {
      body: { apiVersion: "test.kclrun.dev/v1", kind: "Widget", metadata: { name: "w1", namespace: ns }, status: { phase: "Ready" } },
      contentType: "application/apply-patch+yaml", query: { fieldManager: "widget-controller", force: true },
    });
    t.is(res.status, 200, res.text);
    const modified = await watch.until((e) => e.type === "MODIFIED");
    const obj = modified?.obj as KubernetesObject & { spec?: unknown; status?: { phase?: string } };
    t.deepEqual(obj.spec, { size: 3 });
    t.is(obj.status?.phase, "Ready");
    const managers = (obj.metadata?.managedFields ?? []).map((m) => `${m.manager}/${m.subresource ?? ""}`).sort();
    t.deepEqual(managers, ["kclrun-test/", "widget-controller/status"]);
  } finally {
    await watch.stop();
  }
});

test("an ordinary user is denied (403) until RBAC grants access", async (t) => {
  const ns = await newNamespace(cp(), "rbac");
  const user = new KubeConfig();
  user.loadFromFile(await cp().userKubeconfig("alice", ["kclrun:devs"]));
  const core = user.makeApiClient(CoreV1Api);
  const denied = await t.throwsAsync(core.listNamespacedConfigMap({ namespace: ns }));
  t.is((denied as ApiException<unknown>).code, 403);
  t.regex(String((denied as ApiException<unknown>).body), /User \\?"alice\\?" cannot list resource \\?"configmaps\\?"/);

  const rbac = cp().kubeConfig().makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: ns, body: { metadata: { name: "cm-reader" }, rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }] } });
  await rbac.createNamespacedRoleBinding({ namespace: ns, body: {
    metadata: { name: "devs-read" }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "cm-reader" },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "kclrun:devs" }],
  } });
  const list = await core.listNamespacedConfigMap({ namespace: ns });
  t.true(Array.isArray(list.items));
  // Reading is granted, writing is not.
  const write = await t.throwsAsync(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "x" } } }));
  t.is((write as ApiException<unknown>).code, 403);
});

async function waitEstablished(request: ReturnType<typeof cp>["request"], name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await request<{ status?: { conditions?: { type: string; status: string }[] } }>("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
    if (res.body?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`CRD ${name} not Established`);
}

/** A freshly Established CRD's endpoint can still answer 404 for a moment. */
async function waitServed(request: ReturnType<typeof cp>["request"], path: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await request("GET", path)).ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} not served`);
}
