#!/usr/bin/env python3
# Regenerates vn_aqi_cases.json: python3 tests/data/indices/gen_vn_aqi_cases.py > tests/data/indices/vn_aqi_cases.json
# Independent reference implementation (exact rationals) used to produce the table-like cases.
import json, math
from fractions import Fraction as F
I=[0,50,100,150,200,300,400,500]
T={"pm25":[0,25,50,80,150,250,350,500],"pm10":[0,50,150,250,350,420,500,600],
"o3_1h":[0,160,200,300,400,800,1000,1200],"o3_8h":[0,100,120,170,210,400],
"co":[0,10000,30000,45000,60000,90000,120000,150000],"so2":[0,125,350,550,800,1600,2100,2630],
"no2":[0,100,200,700,1200,2350,3100,3850]}
def sub(p,c):
  c=F(c); bp=T[p]
  for i in range(len(bp)-1):
    if c<=bp[i+1]: return I[i]+F(I[i+1]-I[i])*(c-bp[i])/(bp[i+1]-bp[i])
  return F(500)
def rhu(x): return math.floor(x+F(1,2))
def dec(x):  # a decimal literal that is exact in the generator and readable in JSON
  x=F(x); return int(x) if x.denominator==1 else float(x)
cases=[]
for p,bp in T.items():
  for i,b in enumerate(bp):
    cases.append({"pollutant":p,"c":dec(b),"aqi":rhu(sub(p,b)),"note":f"breakpoint {i+1}"})
    if i+1<len(bp):
      for frac,name in ((F(1,4),"quarter"),(F(1,2),"middle")):
        c=b+(bp[i+1]-b)*frac
        cases.append({"pollutant":p,"c":dec(c),"aqi":rhu(sub(p,c)),"exact":float(sub(p,c)),"note":f"band {i+1}-{i+2} {name}"})
for c,a in ((18.0,36),(38.7,77),(62.0,120),(95.0,161),(180.0,230)):
  assert rhu(sub("pm25",F(str(c))))==a
  cases.append({"pollutant":"pm25","c":c,"aqi":a,"note":"vn_aqi.md §5(a)"})
for p,c,a,n in (("pm25",25.2,50,"50.4 rounds down, still Tốt"),("pm25",25.3,51,"50.6 rounds up to Trung bình"),
  ("pm10",95,73,"72.5 half-up"),("co",3500,18,"17.5 half-up"),("pm25",600,500,"above the table: capped"),
  ("co",200000,500,"above the table: capped"),("o3_1h",5000,500,"above the table: capped"),("pm25",0.1,0,"0.2 rounds to 0")):
  assert rhu(sub(p,F(str(c))))==a,(p,c,rhu(sub(p,F(str(c)))))
  cases.append({"pollutant":p,"c":c,"aqi":a,"note":n})
errors=[{"pollutant":"pm25","c":-1,"note":"negative"},{"pollutant":"o3_8h","c":400.5,"note":"O3 8h undefined above 400"},
 {"pollutant":"o3_8h","c":1000,"note":"O3 8h undefined above 400"}]
def nc(c):
  c=(c+[None]*12)[:12]
  c=[None if (x is None or x<0) else F(x) for x in c]
  if sum(1 for x in c[:3] if x is not None)<2: return None
  pr=[x for x in c if x is not None]
  if max(pr)==0: return 0.0
  ws=min(pr)/max(pr); w=ws if ws>F(1,2) else F(1,2)
  num=sum(w**i*x for i,x in enumerate(c) if x is not None); den=sum(w**i for i,x in enumerate(c) if x is not None)
  return float(num/den)
nowcasts=[]
def addnc(h,note,aqi=None):
  v=nc(h); e={"hours":h,"nowcast":v,"note":note}
  if v is not None: e["pm25_aqi"]=rhu(sub("pm25",F(v)))
  if aqi is not None: assert e["pm25_aqi"]==aqi; 
  nowcasts.append(e)
addnc([35,42,50,48,40,33,30,28,27,25,26,30],"vn_aqi.md §5(b) 1: w*=0.5 → 39.47",79)
addnc([80,60,40,30,25,22,20,20,18,16,15,15],"vn_aqi.md §5(b) 2: w*=0.1875 clamped to 0.5 → 63.31",122)
addnc([30,32,35,33,31,29,28,27,28,30,31,32],"vn_aqi.md §5(b) 3: w*=0.7714 → 31.20",62)
addnc([33]*12,"constant: w=1, plain mean")
addnc([10,None,20],"c2 missing keeps its position: (10 + 0.25·20)/(1 + 0.25) = 12")
addnc([20,30],"two hours only, w=2/3: (20 + 20)/(5/3) = 24")
addnc([None,40,20],"c1 missing but c2, c3 present: w=0.5, (0.5·40 + 0.25·20)/0.75 = 33.33")
addnc([50,None,None,40,40,40,40,40,40,40,40,40],"only c1 of c1..c3: not enough data")
addnc([None,None,50,50,50,50,50,50,50,50,50,50],"only c3 of c1..c3: not enough data")
addnc([],"no data")
addnc([60,60,60,0,0,0,0,0,0,0,0,0],"a zero hour forces w=0.5")
addnc([0]*12,"all zero")
addnc([40,20,None,None,None,None,None,None,None,None,None,None],"w* exactly 0.5 stays 0.5: (40 + 10)/1.5 = 33.33")
addnc([40,-5,30],"negative value counts as missing")
addnc([10,10,10,10,10,10,10,10,10,10,10,10,1000],"13th value ignored")
cats=[]
for a in (0,50,51,100,101,150,151,200,201,300,301,500):
  tops=[50,100,150,200,300,500]; lvl=tops.index(next(x for x in tops if a<=x))+1
  names=["Tốt","Trung bình","Kém","Xấu","Rất xấu","Nguy hại"]; hexes=["#00E400","#FFFF00","#FF7E00","#FF0000","#8F3F97","#7E0023"]
  cats.append({"aqi":a,"level":lvl,"name_vi":names[lvl-1],"hex":hexes[lvl-1]})
hourly=[
 {"inputs":{"pm25":20.3,"o3_1h":137.6,"no2":118.7},"aqi":60,"tolerance":1,"dominant":"no2",
  "sub_indices":{"pm25":41,"o3_1h":43,"no2":60},"note":"vn_aqi.md §5(d), the decision's own example; NO2 recomputes to 59.35, the PDF prints 60 (±1 accepted)"},
 {"inputs":{"pm25":39.46617826617827},"aqi":79,"dominant":"pm25","sub_indices":{"pm25":79},"note":"§5(b) 1 NowCast → 79, PM2.5 only"},
 {"inputs":{"pm10":150,"o3_1h":200,"co":30000,"so2":350,"no2":200},"aqi":100,"dominant":"pm10","sub_indices":{"pm10":100,"o3_1h":100,"co":100,"so2":100,"no2":100},"note":"all sub-indices tie at 100: PM10 is dominant (earliest in enum order)"},
 {"inputs":{"pm10":40,"co":95000,"so2":10},"aqi":317,"dominant":"co","sub_indices":{"pm10":40,"co":317,"so2":4},"note":"gas dominant: CO 95,000 µg/m3 = 300 + 100·5000/30000 = 316.7"},
 {"inputs":{"o3_1h":300,"no2":700},"error":True,"note":"no PM: VN_AQI may not be published"}
]
daily=[
 {"inputs":{"pm25":62,"pm10":95,"o3_max_1h":180,"o3_max_8h":110,"no2":150,"so2":40,"co":3500},"aqi":120,"dominant":"pm25",
  "sub_indices":{"pm25":120,"pm10":73,"o3_1h":75,"o3_8h":75,"no2":75,"so2":16,"co":18},"note":"vn_aqi.md §5(c)"},
 {"inputs":{"pm25":20,"o3_max_1h":100,"o3_max_8h":150},"aqi":130,"dominant":"o3_8h","sub_indices":{"pm25":40,"o3_1h":31,"o3_8h":130},"note":"O3 8h row gives the larger O3 sub-index"},
 {"inputs":{"pm25":10,"o3_max_1h":500,"o3_max_8h":450},"aqi":225,"dominant":"o3_1h","sub_indices":{"pm25":20,"o3_1h":225},"note":"O3 8h above 400 is not computed; the 1h row (200 + 100·100/400) decides"},
 {"inputs":{"pm10":600,"o3_max_8h":400},"aqi":500,"dominant":"pm10","sub_indices":{"pm10":500,"o3_8h":300},"note":"O3 8h exactly 400 is still computed (300)"},
 {"inputs":{"o3_max_1h":180,"co":3500},"error":True,"note":"no PM"},
 {"inputs":{"pm25":-3},"error":True,"note":"negative concentration"}
]
out={"_comment":"Generated by gen_vn_aqi_cases.py, an exact-rational reference implementation of vn_aqi.md §2-§3 (half-up rounding); the §5 rows are the document's worked examples.",
 "sub_index":cases,"sub_index_errors":errors,"nowcast":nowcasts,"category_boundaries":cats,"hourly":hourly,"daily":daily}
lines=["{"]
keys=list(out)
for k in keys:
  v=out[k]; end="," if k!=keys[-1] else ""
  if isinstance(v,list):
    lines.append(f' "{k}": [')
    for j,e in enumerate(v):
      lines.append("  "+json.dumps(e,ensure_ascii=False)+("," if j+1<len(v) else ""))
    lines.append(" ]"+end)
  else:
    lines.append(f' "{k}": '+json.dumps(v,ensure_ascii=False)+end)
lines.append("}")
print("\n".join(lines))
