import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../browser/processes'

/** Debian's clickhouse-server (`apt-get install -y clickhouse-server`), as .ci/run installs it. */
export const CLICKHOUSE_SERVER = process.env.WAYMARK_CLICKHOUSE_SERVER ?? '/usr/sbin/clickhouse-server'

interface Ports {
  http: number
  tcp: number
  interserver: number
}
const freePorts = async (): Promise<Ports> => ({ http: await freePort(), tcp: await freePort(), interserver: await freePort() })

export interface RunningClickHouse {
  /** The HTTP interface, e.g. http://127.0.0.1:41234 */
  http: string
  /** A store URL for Waymark: clickhouse://127.0.0.1:41234/<database> */
  storeUrl: (database: string) => string
  process: ChildProcess
  stop: () => Promise<void>
}

/**
 * A real ClickHouse server of its own: loopback ports, a data folder under the system's temporary
 * folder, no password for `default` from loopback. Removed again by stop().
 */
export async function startClickHouse(ports?: Ports, cluster?: Ports[]): Promise<RunningClickHouse> {
  const dir = mkdtempSync(join(tmpdir(), 'waymark-clickhouse-'))
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub))
  const { http: httpPort, tcp: tcpPort, interserver: interserverPort } = ports ?? (await freePorts())
  // The cluster `waymark`: one shard per server, each on its own TCP port on loopback.
  const remoteServers = cluster
    ? `<remote_servers><waymark>${cluster.map((shard) => `<shard><replica><host>127.0.0.1</host><port>${shard.tcp}</port></replica></shard>`).join('')}</waymark></remote_servers>`
    : ''
  writeFileSync(
    join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><console>1</console></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interserverPort}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <mark_cache_size>67108864</mark_cache_size>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  ${remoteServers}
</yandex>
`,
  )
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`,
  )
  const child = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(dir, 'config.xml')}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  // A test run that ends early (a failure in a hook, a killed worker) takes its server with it.
  const orphaned = () => child.kill('SIGKILL')
  process.once('exit', orphaned)
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  child.stderr!.on('data', (chunk) => (output += chunk))
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new Error(`${CLICKHOUSE_SERVER} did not start (apt-get install -y clickhouse-server): ${error.message}`))),
  )
  const http = `http://127.0.0.1:${httpPort}`
  const ready = (async () => {
    for (let waited = 0; waited < 20_000; waited += 50) {
      if (child.exitCode !== null) throw new Error(`clickhouse-server exited with ${child.exitCode}:\n${output}`)
      if (await fetch(`${http}/ping`).then((r) => r.ok, () => false)) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error(`clickhouse-server did not answer within 20 s:\n${output}`)
  })()
  await Promise.race([ready, spawnError])
  return {
    http,
    storeUrl: (database) => `clickhouse://127.0.0.1:${httpPort}/${database}`,
    process: child,
    stop: async () => {
      process.off('exit', orphaned)
      if (child.exitCode === null) {
        await new Promise((resolve) => {
          child.once('exit', resolve)
          child.kill('SIGTERM')
        })
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Two (or more) servers, each one shard of the cluster `waymark`. The store URL connects to the
 * first and names every shard's HTTP address, as a site owner's would.
 */
export async function startClickHouseCluster(shards = 2): Promise<RunningClickHouse & { servers: RunningClickHouse[] }> {
  const ports: Ports[] = []
  for (let i = 0; i < shards; i++) ports.push(await freePorts())
  const servers: RunningClickHouse[] = []
  for (const own of ports) servers.push(await startClickHouse(own, ports))
  const hosts = ports.map((p) => `127.0.0.1:${p.http}`).join(',')
  return {
    ...servers[0],
    servers,
    storeUrl: (database) => `${servers[0].storeUrl(database)}?cluster=waymark&shards=${hosts}`,
    stop: async () => {
      for (const server of servers) await server.stop()
    },
  }
}
