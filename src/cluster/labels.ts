// Labels and annotations the local cluster puts on fake GPU nodes and reads from pods.
// Documented in src/cluster/README.md; the operator and the chart use the same keys.

/** Pods with this label set to "true" are run as local processes by the pod runner, not by kwok. */
export const LOCAL_RUNNER_LABEL = 'selectn.dev/local-runner';

/** kwok manages nodes carrying this annotation (value "fake"). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

/** Node annotation: JSON object mapping GPU index ("0".."n-1") to its PCIe switch id. */
export const PCIE_TOPOLOGY_ANNOTATION = 'selectn.dev/pcie-topology';

/** Node label: how many GPUs share one PCIe switch on this node. */
export const GPUS_PER_SWITCH_LABEL = 'selectn.dev/gpus-per-pcie-switch';

/** Node label: host-to-GPU bandwidth of one PCIe switch in GB/s (shared by the GPUs under it). */
export const SWITCH_BANDWIDTH_LABEL = 'selectn.dev/pcie-switch-gbps';

/** The extended resource the fake nodes advertise and pods request. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** GPU feature discovery labels, as NVIDIA's gpu-feature-discovery sets them. */
export const GPU_PRODUCT_LABEL = 'nvidia.com/gpu.product';
export const GPU_MEMORY_LABEL = 'nvidia.com/gpu.memory'; // MiB per GPU
export const GPU_COUNT_LABEL = 'nvidia.com/gpu.count';
export const GPU_PRESENT_LABEL = 'nvidia.com/gpu.present';

/** Label on every node the local cluster created (value: the cluster name). */
export const CLUSTER_NODE_LABEL = 'selectn.dev/local-cluster';
