# Helpers shared by the house rules. Works on conftest's combined input (an
# array of {path, contents}, what policycheck passes) and on a single
# document (plain `conftest test file.yaml`).
package lib.k8s

objects contains obj if {
	is_array(input)
	some item in input
	obj := item.contents
	is_object(obj)
	obj.kind
}

objects contains input if {
	is_object(input)
	input.kind
}

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

# The pod template of a workload (a Pod is its own template), and the dotted
# paths of its metadata and spec.
pod_template(obj) := obj.spec.template if workload_kinds[obj.kind]

pod_template(obj) := obj.spec.jobTemplate.spec.template if obj.kind == "CronJob"

pod_template(obj) := {"metadata": object.get(obj, "metadata", {}), "spec": obj.spec} if obj.kind == "Pod"

template_path(obj) := "spec.template" if workload_kinds[obj.kind]

template_path(obj) := "spec.jobTemplate.spec.template" if obj.kind == "CronJob"

pod_meta_path(obj) := "metadata" if obj.kind == "Pod"

pod_meta_path(obj) := sprintf("%s.metadata", [template_path(obj)]) if obj.kind != "Pod"

pod_spec_path(obj) := "spec" if obj.kind == "Pod"

pod_spec_path(obj) := sprintf("%s.spec", [template_path(obj)]) if obj.kind != "Pod"

# Objects that run pods: Pods and every workload kind.
workloads contains obj if {
	some obj in objects
	pod_template(obj)
}

# Workloads whose pod template is separate from the object itself.
templated_workloads contains obj if {
	some obj in workloads
	obj.kind != "Pod"
}

# [list name, index, container] of every container, init containers included.
containers(obj) := [[list, i, c] |
	some list in ["initContainers", "containers"]
	some i, c in object.get(pod_template(obj), ["spec", list], [])
]

labels(obj) := object.get(obj, ["metadata", "labels"], {})

environment(obj) := object.get(labels(obj), "environment", "")

is_prod(obj) if environment(obj) == "prod"

# The result object policycheck maps back to a rendered object and a line.
result(rule, obj, field, msg) := {
	"msg": msg,
	"rule": rule,
	"kind": obj.kind,
	"name": obj.metadata.name,
	"namespace": object.get(obj, ["metadata", "namespace"], ""),
	"field": field,
}
