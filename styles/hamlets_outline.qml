<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.22.16-Białowieża" styleCategories="Symbology|Labeling|Fields|Forms" labelsEnabled="1">
  <renderer-v2 type="singleSymbol" forceraster="0" symbollevels="0" enableorderby="0">
    <symbols>
      <symbol name="0" type="fill" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option name="color" value="255,255,255,0" type="QString" />
            <Option name="joinstyle" value="bevel" type="QString" />
            <Option name="outline_color" value="0,0,0,255" type="QString" />
            <Option name="outline_style" value="solid" type="QString" />
            <Option name="outline_width" value="0.6" type="QString" />
            <Option name="outline_width_unit" value="MM" type="QString" />
            <Option name="style" value="no" type="QString" />
          </Option>
          <prop k="color" v="255,255,255,0" />
          <prop k="joinstyle" v="bevel" />
          <prop k="outline_color" v="0,0,0,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.6" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="no" />
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <labeling type="simple">
    <settings calloutType="simple">
      <text-style fieldName="coalesce(attribute('hamlet'), attribute('ten_thon'))" isExpression="1" fontFamily="DejaVu Sans" fontSize="10" fontSizeUnit="Point" fontWeight="75" textColor="0,0,0,255" textOpacity="1" multilineHeight="1" capitalization="0" allowHtml="0" fontItalic="0" fontUnderline="0" fontStrikeout="0">
        <text-buffer bufferDraw="1" bufferSize="1" bufferSizeUnits="MM" bufferColor="255,255,255,255" bufferOpacity="0.9" bufferNoFill="1" bufferJoinStyle="128" />
      </text-style>
      <placement placement="1" centroidInside="1" centroidWhole="0" fitInPolygonOnly="0" polygonPlacementFlags="2" priority="9" dist="0" offsetType="0" />
      <rendering drawLabels="1" obstacle="1" obstacleFactor="1" obstacleType="1" displayAll="1" upsidedownLabels="0" labelPerPart="0" mergeLines="0" minFeatureSize="0" limitNumLabels="0" maxNumLabels="2000" zIndex="1" scaleVisibility="0" scaleMin="1" scaleMax="0" />
    </settings>
  </labeling>
  <fieldConfiguration>
    <field name="status" configurationFlags="None">
      <editWidget type="ValueMap">
        <config>
          <Option type="Map">
            <Option name="map" type="List">
              <Option type="Map">
                <Option name="Vượt chỉ tiêu" type="QString" value="vuot" />
              </Option>
              <Option type="Map">
                <Option name="Đạt chỉ tiêu" type="QString" value="dat" />
              </Option>
              <Option type="Map">
                <Option name="Chưa đạt chỉ tiêu" type="QString" value="chua_dat" />
              </Option>
              <Option type="Map">
                <Option name="Không có chỉ tiêu" type="QString" value="khong_chi_tieu" />
              </Option>
            </Option>
          </Option>
        </config>
      </editWidget>
    </field>
  </fieldConfiguration>
  <blendMode>0</blendMode>
  <featureBlendMode>0</featureBlendMode>
  <layerOpacity>1</layerOpacity>
  <layerGeometryType>2</layerGeometryType>
</qgis>
