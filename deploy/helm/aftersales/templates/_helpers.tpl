{{/* Names: <release>-aftersales unless the release is already called so. */}}
{{- define "aftersales.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aftersales.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A component's resource name, e.g. aftersales-server. */}}
{{- define "aftersales.componentName" -}}
{{- printf "%s-%s" (include "aftersales.fullname" .root) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aftersales.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "aftersales.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: aftersales
{{- end }}

{{/* Selector labels of one component: immutable in a Deployment, so no version. */}}
{{- define "aftersales.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aftersales.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "aftersales.componentLabels" -}}
{{ include "aftersales.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "aftersales.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "aftersales.configMapName" -}}
{{- include "aftersales.componentName" (dict "root" . "component" "config") }}
{{- end }}

{{/* The Secret the pods read: the operator's, or the one the chart creates. */}}
{{- define "aftersales.secretName" -}}
{{- if .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else }}
{{- include "aftersales.componentName" (dict "root" . "component" "secret") }}
{{- end }}
{{- end }}

{{- define "aftersales.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "aftersales.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Checks that make a bad release fail at render time, before anything reaches
the cluster.
*/}}
{{- define "aftersales.validate" -}}
{{- if and (not .Values.secret.existingSecret) (not .Values.secret.databaseURL) }}
{{- fail "set secret.existingSecret (a Secret with DATABASE_URL) or secret.databaseURL" }}
{{- end }}
{{- $drain := 10 }}{{/* server.Serve's shutdown deadline, server/listen.go */}}
{{- $need := add (int .Values.config.requestTimeoutSeconds) $drain (int .Values.server.preStopSleepSeconds) }}
{{- if le (int .Values.server.terminationGracePeriodSeconds) (int $need) }}
{{- fail (printf "server.terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + config.requestTimeoutSeconds + the 10 s drain (%d)" (int .Values.server.terminationGracePeriodSeconds) (int $need)) }}
{{- end }}
{{- if lt (int .Values.config.requestTimeoutSeconds) 1 }}
{{- fail "config.requestTimeoutSeconds must be at least 1" }}
{{- end }}
{{- end }}

{{/* Spread constraints; one without labelSelector gets the component's pod labels. */}}
{{- define "aftersales.topologySpread" -}}
{{- $sel := dict "matchLabels" (include "aftersales.selectorLabels" (dict "root" .root "component" .component) | fromYaml) }}
{{- range .constraints }}
- {{ toYaml (merge (deepCopy .) (dict "labelSelector" $sel)) | nindent 2 | trim }}
{{- end }}
{{- end }}

{{/*
Volumes every pod has: a writable /tmp (the root filesystem is read-only)
and the Temporal TLS material when configured.
*/}}
{{- define "aftersales.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- with .Values.temporal.tls.clientCertSecret }}
- name: temporal-client-cert
  secret:
    secretName: {{ . }}
    defaultMode: 0440 # read by the pod's group (fsGroup) only
{{- end }}
{{- with .Values.temporal.tls.serverCASecret }}
- name: temporal-server-ca
  secret:
    secretName: {{ . }}
    defaultMode: 0440 # read by the pod's group (fsGroup) only
{{- end }}
{{- end }}

{{- define "aftersales.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.temporal.tls.clientCertSecret }}
- name: temporal-client-cert
  mountPath: /etc/temporal/client
  readOnly: true
{{- end }}
{{- if .Values.temporal.tls.serverCASecret }}
- name: temporal-server-ca
  mountPath: /etc/temporal/ca
  readOnly: true
{{- end }}
{{- end }}

{{/* The server's and the worker's environment: ConfigMap, then Secret. */}}
{{- define "aftersales.envFrom" -}}
- configMapRef:
    name: {{ include "aftersales.configMapName" . }}
- secretRef:
    name: {{ include "aftersales.secretName" . }}
{{- end }}

{{/* Rolls the pods when the configuration they read changes. */}}
{{- define "aftersales.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.secret.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}
