import { parse } from '@cdktf/hcl2json'
const src = `
server {
  trust_domain = "example.org"
  bind_port = 8081
}
plugins {
  DataStore "sql" { plugin_data { database_type = "sqlite3"
   connection_string = "x" } }
  NodeAttestor "k8s_psat" {
    plugin_data {
      clusters = {
        "c1" = { service_account_allow_list = ["spire:spire-agent"] }
      }
    }
  }
}`
console.time('p'); const r = await parse('server.conf', src); console.timeEnd('p')
console.log(JSON.stringify(r, null, 1))
try { await parse('x', 'server { a = }') } catch (e) { console.log('ERR', e.message) }
