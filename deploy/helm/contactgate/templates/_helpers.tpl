{{/* Names */}}
{{- define "contactgate.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "contactgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "contactgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "contactgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "contactgate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "contactgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "contactgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "contactgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Deployment or StatefulSet (see workloadKind in values.yaml). */}}
{{- define "contactgate.kind" -}}
{{- if eq .Values.workloadKind "auto" -}}
{{- if eq .Values.processing.guarantee "exactly_once" -}}StatefulSet{{- else -}}Deployment{{- end -}}
{{- else if has .Values.workloadKind (list "Deployment" "StatefulSet") -}}
{{- .Values.workloadKind -}}
{{- else -}}
{{- fail (printf "workloadKind must be auto, Deployment or StatefulSet (got %q)" .Values.workloadKind) -}}
{{- end -}}
{{- end -}}

{{/* The drain bound in whole seconds, rounded up. */}}
{{- define "contactgate.drainSeconds" -}}
{{- div (add (int .Values.pipeline.shutdownTimeoutMs) 999) 1000 -}}
{{- end -}}

{{- define "contactgate.terminationGrace" -}}
{{- $drain := int (include "contactgate.drainSeconds" .) -}}
{{- if eq (toString .Values.terminationGracePeriodSeconds) "" -}}
{{- add $drain 15 -}}
{{- else -}}
{{- $g := int .Values.terminationGracePeriodSeconds -}}
{{- if le $g $drain -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be longer than the drain, pipeline.shutdownTimeoutMs (%d s)" $g $drain) -}}
{{- end -}}
{{- $g -}}
{{- end -}}
{{- end -}}

{{/* Checks that stop a bad release at render time. */}}
{{- define "contactgate.validate" -}}
{{- if not .Values.kafka.brokers -}}
{{- fail "kafka.brokers is required (the bootstrap servers, e.g. my-cluster-kafka-bootstrap.kafka:9093)" -}}
{{- end -}}
{{- if not (has .Values.processing.guarantee (list "at_least_once" "exactly_once")) -}}
{{- fail (printf "processing.guarantee must be at_least_once or exactly_once (got %q)" .Values.processing.guarantee) -}}
{{- end -}}
{{- $parts := int .Values.topics.inputPartitions -}}
{{- if and .Values.keda.enabled (gt (int .Values.keda.maxReplicaCount) $parts) -}}
{{- fail (printf "keda.maxReplicaCount (%d) must not exceed topics.inputPartitions (%d): extra instances would own no partition" (int .Values.keda.maxReplicaCount) $parts) -}}
{{- end -}}
{{- if and .Values.keda.enabled (gt (int .Values.keda.minReplicaCount) (int .Values.keda.maxReplicaCount)) -}}
{{- fail "keda.minReplicaCount must not exceed keda.maxReplicaCount" -}}
{{- end -}}
{{- if gt (int .Values.replicaCount) $parts -}}
{{- fail (printf "replicaCount (%d) must not exceed topics.inputPartitions (%d)" (int .Values.replicaCount) $parts) -}}
{{- end -}}
{{- $proto := upper (toString .Values.kafka.security.protocol) -}}
{{- if and (hasPrefix "SASL" $proto) (not .Values.kafka.security.passwordSecret.name) -}}
{{- fail "kafka.security.protocol is SASL_*: set kafka.security.passwordSecret.name (a Secret holding the password)" -}}
{{- end -}}
{{- if and (hasPrefix "SASL" $proto) (not .Values.kafka.security.username) -}}
{{- fail "kafka.security.protocol is SASL_*: set kafka.security.username" -}}
{{- end -}}
{{- if and .Values.keda.enabled (or (hasPrefix "SASL" $proto) (hasSuffix "SSL" $proto)) (not .Values.keda.authenticationRef) -}}
{{- fail "keda.enabled with a secured Kafka: set keda.authenticationRef to a TriggerAuthentication (deploy/README.md)" -}}
{{- end -}}
{{- end -}}
