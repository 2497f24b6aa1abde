// Fake GPU nodes: their shape (validated), the Node objects kwok manages, and the PCIe topology.
/* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment --
   client-node types its objects as model classes, but they are plain JSON on the wire and in
   responses: object literals and spreads of them are what the API takes and gives. */
import { z } from 'zod';
import type { V1Node } from '@kubernetes/client-node';
import {
  CLUSTER_NODE_LABEL,
  GPU_COUNT_LABEL,
  GPU_MEMORY_LABEL,
  GPU_PRESENT_LABEL,
  GPU_PRODUCT_LABEL,
  GPU_RESOURCE,
  GPUS_PER_SWITCH_LABEL,
  KWOK_NODE_ANNOTATION,
  PCIE_TOPOLOGY_ANNOTATION,
  SWITCH_BANDWIDTH_LABEL,
} from './labels.ts';

const quantity = z
  .string()
  .regex(
    /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|Ki|Mi|Gi|Ti|Pi)?$/,
    'must be a Kubernetes quantity like 64, 500m or 512Gi',
  );

export const NodeShapeSchema = z
  .object({
    count: z.number().int().min(0).max(5000).describe('how many fake GPU nodes'),
    namePrefix: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label')
      .describe('nodes are named <prefix>-<index>'),
    gpus: z.number().int().min(0).max(64).describe('GPUs per node (nvidia.com/gpu capacity)'),
    gpuProduct: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'must be a label value such as NVIDIA-A10G')
      .describe('nvidia.com/gpu.product label'),
    gpuMemoryMiB: z
      .number()
      .int()
      .min(1)
      .describe('memory of one GPU in MiB (nvidia.com/gpu.memory)'),
    gpusPerSwitch: z.number().int().min(1).describe('GPUs sharing one PCIe switch'),
    switchGBps: z.number().positive().describe('host-to-GPU bandwidth of one PCIe switch in GB/s'),
    cpu: quantity.describe('CPU capacity'),
    memory: quantity.describe('host memory capacity'),
    pods: z.number().int().min(1).describe('max pods per node'),
  })
  .refine((s) => s.gpus === 0 || s.gpus % s.gpusPerSwitch === 0, {
    error: 'gpus must be a multiple of gpusPerSwitch',
    path: ['gpusPerSwitch'],
  });
export type NodeShape = z.infer<typeof NodeShapeSchema>;

export const DEFAULT_NODE_SHAPE: NodeShape = {
  count: 4,
  namePrefix: 'gpu-node',
  gpus: 4,
  gpuProduct: 'NVIDIA-A10G',
  gpuMemoryMiB: 23028,
  gpusPerSwitch: 2,
  switchGBps: 16,
  cpu: '48',
  memory: '192Gi',
  pods: 110,
};

/** GPU index -> PCIe switch id, e.g. {"0":"pcie-0","1":"pcie-0","2":"pcie-1","3":"pcie-1"}. */
export function pcieTopology(
  shape: Pick<NodeShape, 'gpus' | 'gpusPerSwitch'>,
): Record<string, string> {
  const topology: Record<string, string> = {};
  for (let gpu = 0; gpu < shape.gpus; gpu++) {
    topology[String(gpu)] = `pcie-${Math.floor(gpu / shape.gpusPerSwitch)}`;
  }
  return topology;
}

export function nodeName(shape: Pick<NodeShape, 'namePrefix'>, index: number): string {
  return `${shape.namePrefix}-${index}`;
}

/** The Node object for one fake GPU node; kwok finishes its status and keeps it Ready. */
export function gpuNodeManifest(clusterName: string, shape: NodeShape, name: string): V1Node {
  const resources = {
    cpu: shape.cpu,
    memory: shape.memory,
    pods: String(shape.pods),
    [GPU_RESOURCE]: String(shape.gpus),
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: {
        [KWOK_NODE_ANNOTATION]: 'fake',
        [PCIE_TOPOLOGY_ANNOTATION]: JSON.stringify(pcieTopology(shape)),
        'node.alpha.kubernetes.io/ttl': '0',
      },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
        [CLUSTER_NODE_LABEL]: clusterName,
        [GPU_PRESENT_LABEL]: shape.gpus > 0 ? 'true' : 'false',
        [GPU_PRODUCT_LABEL]: shape.gpuProduct,
        [GPU_MEMORY_LABEL]: String(shape.gpuMemoryMiB),
        [GPU_COUNT_LABEL]: String(shape.gpus),
        [GPUS_PER_SWITCH_LABEL]: String(shape.gpusPerSwitch),
        [SWITCH_BANDWIDTH_LABEL]: String(shape.switchGBps),
      },
    },
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        architecture: 'amd64',
        bootID: '',
        containerRuntimeVersion: 'selectn-local-runner',
        kernelVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: 'kwok',
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'selectn fake GPU node',
        systemUUID: '',
      },
    },
  };
}
