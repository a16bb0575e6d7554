/**
 * The Temporal Web UI's address of a run (its history page), as the UI routes it:
 * `<ui>/namespaces/<namespace>/workflows/<workflow id>/<run id>/history`, each part URL-encoded
 * (Retrain's workflow ids hold slashes). Without a run id, the workflow's latest run. Null when
 * the UI's base URL is not known (an external cluster without TEMPORAL_UI_URL).
 */
export function temporalUiRunUrl(uiUrl: string | null, namespace: string, workflowId: string, runId?: string): string | null {
  if (!uiUrl) return null;
  const base = `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}
